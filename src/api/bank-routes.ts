/** /v1/banks: the banks as first-class routes, each calling the banks contract (node/banks-contract.ts). */
import type { FastifyInstance } from 'fastify'
import type { Static } from '@sinclair/typebox'
import type { BanksApi, CreateBankInput, UpdateBankInput } from '../node/banks-contract.js'
import * as B from './bank-schemas.js'

type Params = Static<typeof B.BankParams>
type IdParams = Static<typeof B.ContentParams>

export function bankRoutes(app: FastifyInstance, banks: BanksApi): void {
  app.get('/v1/banks', async () => ({ banks: await banks.list() }))
  app.post('/v1/banks', { schema: { body: B.CreateBankBody } }, async (request, reply) => {
    return reply.status(201).send(await banks.create(request.body as CreateBankInput))
  })
  app.get('/v1/banks/:name', { schema: { params: B.BankParams } }, async (request) => banks.get((request.params as Params).name))
  app.patch('/v1/banks/:name', { schema: { params: B.BankParams, body: B.UpdateBankBody } }, async (request) => {
    return banks.update((request.params as Params).name, request.body as UpdateBankInput)
  })
  app.delete('/v1/banks/:name', { schema: { params: B.BankParams } }, async (request) => {
    const { name } = request.params as Params
    await banks.delete(name)
    return { bank: name, deleted: true }
  })

  app.post('/v1/banks/:name/content', { schema: { params: B.BankParams, body: B.AddContentBody } }, async (request, reply) => {
    const body = request.body as Static<typeof B.AddContentBody>
    return reply.status(201).send(await banks.addContent((request.params as Params).name, body))
  })
  app.get('/v1/banks/:name/content', { schema: { params: B.BankParams, querystring: B.ContentQuery } }, async (request) => {
    return banks.listContent((request.params as Params).name, request.query as Static<typeof B.ContentQuery>)
  })
  app.get('/v1/banks/:name/content/:id', { schema: { params: B.ContentParams } }, async (request) => {
    const { name, id } = request.params as IdParams
    return banks.getContent(name, id)
  })
  app.patch('/v1/banks/:name/content/:id', { schema: { params: B.ContentParams, body: B.UpdateContentBody } }, async (request) => {
    const { name, id } = request.params as IdParams
    return banks.updateContent(name, id, request.body as Static<typeof B.UpdateContentBody>)
  })
  app.delete('/v1/banks/:name/content/:id', { schema: { params: B.ContentParams } }, async (request) => {
    const { name, id } = request.params as IdParams
    await banks.deleteContent(name, id)
    return { bank: name, id, deleted: true }
  })
}
