/** Every scenario of the reliability suite, in table order. */
import type { Scenario } from './common.js'
import { scenarioA, scenarioB } from './catchup-kills.js'
import { scenarioC } from './submit-kills.js'
import { scenarioD } from './partition-fork.js'
import { scenarioE } from './stalled-sockets.js'
import { scenarioF } from './fork-attack.js'
import { scenarioG } from './fuzz.js'

export const SCENARIOS: Scenario[] = [scenarioA, scenarioB, scenarioC, scenarioD, scenarioE, scenarioF, scenarioG]
