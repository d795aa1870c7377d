#!/usr/bin/env node
// Placeholder CLI until the gateway issue lands.
const args = process.argv.slice(2)
if (args.includes('--help')) {
  console.log('usage: proxykit-gateway [--config FILE] [--check] [--help]')
  process.exit(0)
}
console.log('proxykit-gateway: not built yet')
