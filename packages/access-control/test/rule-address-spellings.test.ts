// Issue 26.8: an address a rule names must mean what it reads as. `300.1.1.1` is no address at all;
// `010.0.0.1` (octal: 8.0.0.1), `2130706434` and `127.1` are addresses only to inet_aton, so a rule that
// names them is refused at construction with its path instead of matching something nobody wrote.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Policy } from '../src/index.js'

const refused: Array<[Record<string, unknown>, RegExp]> = [
  [{ action: 'allow', hosts: ['300.1.1.1'] }, /rules\[0\]\.hosts\[0\]: "300\.1\.1\.1" is not a valid host/],
  [
    { action: 'allow', hosts: ['010.0.0.1'] },
    /rules\[0\]\.hosts\[0\]: "010\.0\.0\.1" spells the IPv4 address 8\.0\.0\.1/,
  ],
  [{ action: 'deny', hosts: ['2130706434'] }, /rules\[0\]\.hosts\[0\]: .*127\.0\.0\.2 unusually/],
  [{ action: 'deny', hosts: ['127.1'] }, /rules\[0\]\.hosts\[0\]: .*127\.0\.0\.1 unusually/],
  [
    { action: 'allow', destinations: ['300.1.1.1'] },
    /rules\[0\]\.destinations\[0\]: "300\.1\.1\.1" is not an IP/,
  ],
  [{ action: 'allow', destinations: ['010.0.0.0/8'] }, /rules\[0\]\.destinations\[0\]/],
  [{ action: 'allow', clients: ['10.0.0.0/33'] }, /rules\[0\]\.clients\[0\]/],
]

for (const [rule, message] of refused) {
  test(`a rule with ${JSON.stringify(rule)} is refused, naming its path`, () => {
    assert.throws(() => new Policy([rule], 'deny'), message)
  })
}

test('addresses in their usual spellings are still rules', () => {
  assert.doesNotThrow(
    () =>
      new Policy(
        [
          { action: 'allow', hosts: ['10.0.0.1', '[::1]', '10.0.0.2.', 'example.com.'] },
          { action: 'deny', destinations: ['127.0.0.0/8', '::ffff:10.0.0.0/104'] },
        ],
        'deny',
      ),
  )
})
