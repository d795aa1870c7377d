// A node:test reporter that prints one plain closing line: `N passed, M failed, K skipped`.
export default async function* summary(source) {
  let passed = 0
  let failed = 0
  let skipped = 0
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    // Count leaf tests only: a suite's own pass/fail event repeats its children.
    if (event.data.details?.type === 'suite') continue
    if (event.type === 'test:fail') failed++
    else if (event.data.skip || event.data.todo) skipped++
    else passed++
  }
  yield `${passed} passed, ${failed} failed, ${skipped} skipped\n`
}
