/**
 * `sample`: HMA's and python-threatexchange's static sample exchange (StaticSampleSignalExchangeAPI): no
 * source, no settings, no checkpoint; every fetch gives the example signals of each signal type (the
 * PdqSignal and VideoMD5Signal examples of python-threatexchange), so a node can be tried, and HMA's own
 * exchange tests replayed, without any API.
 */
import type { ExchangeAdapter, ExchangeSignal, FetchUpdate } from '../types.js'

export const SAMPLE_SIGNALS: readonly ExchangeSignal[] = [
  ...[
    // pdq/data/bridge-mods
    'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22', 'f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22',
    'f8f8f0cee0f4a84f0637022a038f67f0b36e26d596621e1d33e6b39c4e9c9b22', 'f8f8f0cee0f4a84f06370a2a068f67f0b36e26d596621e1d33e6339c4e9c9b22',
    'f8f8f0cee0f4a84f06370a22038f67f0b36e2ed596221e1d33e6b39c4e9c9b22', 'f8f8f0cee0f4a84f0e370a22038f67f0b36e2ed596221e1d33e6b39c4a9c9b22',
    'd8f8f0cec0f4a84f8e370a22038f67f0b36a2ed597231e1d72e6b39c4a9c9b22', 'f8f8f0cee0f4a84f06370a22038f67f0b36e2ed596621e1d33e6339c4e9c9b22',
    'd0f8f1ccc0f4a84d0a370a3a228f67f0b36e2ed5b6623e1d33e6339c4e9c9b22', 'd8f8f1eec0f4a84f0e37022a078f63f0b36e2ed596621e1d33e6239c4e9c9b22',
    'd8f8f0cec4f4a84f0637022a078f67f0b36e2ee5b6621e1d33e6239c4e9c9b22', 'd8f8f0cec0f4a84f0637022a278f67f0b36e2ed596621e1d33e6339c4e9c9b22',
    // pdq/data/misc-images
    'e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064', '6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d',
    // GitHub invertocat and octocat logos
    'c186f9619659658c4b6916daf934496985f4259c72c39676ab9edb631c3c349c', '62c9789627838f69f23cf98c29e37836d61c87c31c59587c4b49a783f496725c',
  ].map((value): ExchangeSignal => ({ type: 'pdq', value })),
  ...['cab08b36195edb1a1231d2d09fa450e0', 'd41d8cd98f00b204e9800998ecf8427e'].map((value): ExchangeSignal => ({ type: 'video_md5', value })),
]

export const sampleAdapter: ExchangeAdapter = {
  api: 'sample',
  settingsFields: [],
  credentialFields: [],
  checkSettings: () => ({}),
  async *fetch(): AsyncIterable<FetchUpdate> {
    yield { kind: 'snapshot', signals: SAMPLE_SIGNALS, checkpoint: () => ({}) }
  },
}
