/** The local taxonomy (config/taxonomy.json) applied to the node's own contributions. */
import { fail } from '../errors.js'
import { checkContentType, checkLabels } from './body-wire.js'

export interface TaxonomyRules {
  contentTypes: string[]
  namespaces: Record<string, { values?: string[]; free?: boolean; pattern?: string }>
}

export function checkAgainstTaxonomy(labels: string[], contentType: string, taxonomy: TaxonomyRules): void {
  checkLabels(labels)
  checkContentType(contentType)
  if (!taxonomy.contentTypes.includes(contentType)) {
    fail('LABEL_INVALID', `content type "${contentType}" is not one of ${taxonomy.contentTypes.join(', ')}`)
  }
  for (const label of labels) {
    const cut = label.indexOf(':')
    const namespace = label.slice(0, cut)
    const value = label.slice(cut + 1)
    const rule = taxonomy.namespaces[namespace]
    if (!rule) fail('LABEL_INVALID', `label namespace "${namespace}" is not in the taxonomy (${Object.keys(taxonomy.namespaces).join(', ')})`)
    if (rule.values && !rule.values.includes(value)) {
      fail('LABEL_INVALID', `"${value}" is not a ${namespace}: value (one of ${rule.values.join(', ')})`)
    }
    if (rule.pattern && !new RegExp(rule.pattern).test(value)) fail('LABEL_INVALID', `"${label}" does not match ${rule.pattern}`)
  }
}
