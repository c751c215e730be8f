import { runCli } from './cli/cli.ts'

// The entry point: everything lives in the CLI; this only turns its answer into an exit code.
runCli(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
