/** Why a config was refused: one `path: rule` line per problem. */
export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[], source = 'config') {
    super(`${source} is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}
