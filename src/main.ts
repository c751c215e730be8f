import { runCli } from './cli/cli.ts'
import { processEnvironment } from './config/config.ts'

// The entry point: everything lives in the CLI; this hands it the process's arguments and
// environment (which src/config/ validates) and turns its answer into an exit code.
runCli(process.argv.slice(2), processEnvironment()).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
