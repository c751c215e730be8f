// the only styles: emitted as a file, as the Content-Security-Policy (style-src 'self') requires
import './styles.css'

import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'

import { App } from './App.tsx'
import { reportHeightToParent } from './embed.ts'

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
reportHeightToParent()
