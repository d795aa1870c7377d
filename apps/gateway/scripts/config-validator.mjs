#!/usr/bin/env node
// Part of the gateway's build (after tsc): writes the config schema's validator as code, so the gateway
// does not compile the schema when it starts (src/config/validator.ts says why).
import { writeFile } from 'node:fs/promises'
import { GENERATED_VALIDATOR, generatedValidatorSource } from '../dist/src/config/validator.js'

await writeFile(GENERATED_VALIDATOR, generatedValidatorSource())
