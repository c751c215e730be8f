#!/usr/bin/env node
// The installed command. The service is TypeScript run through tsx's loader (a dependency), so
// that the sources are what runs, with no build step between a clone and `npm start`.
import { register } from 'tsx/esm/api'

register()
await import('../src/main.ts')
