import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * How a host product shows the settings page inside its own (docs/EMBEDDING.md): the origins that
 * may frame it (UI_FRAME_ANCESTORS) and the look it takes there (UI_THEME).
 */
export interface EmbeddingConfig {
  /** Origins (`https://app.example.com`) that may show the page in a frame; empty: none may. */
  readonly frameAncestors: readonly string[]
  /** The theme's CSS custom properties; empty: the page's own look. */
  readonly theme: Readonly<Partial<Theme>>
}

/** Nobody frames the page, and it keeps its own look. */
export const NO_EMBEDDING: EmbeddingConfig = { frameAncestors: [], theme: {} }

const Colour = Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })

/**
 * What a theme may set, each checked so that what goes into the stylesheet can only be what it
 * says (a colour, a length, a list of font names, an https address): config never writes CSS.
 */
const ThemeSchema = Type.Object(
  {
    accent: Type.Optional(Colour),
    accentDark: Type.Optional(Colour),
    ink: Type.Optional(Colour),
    background: Type.Optional(Colour),
    card: Type.Optional(Colour),
    topbar: Type.Optional(Colour),
    font: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9 ,'-]{1,200}$" })),
    radius: Type.Optional(Type.String({ pattern: '^[0-9]{1,2}(\\.[0-9]{1,2})?(px|rem)$' })),
    logo: Type.Optional(
      Type.String({ pattern: '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~/%-]*$', maxLength: 500 }),
    ),
  },
  { additionalProperties: false },
)
export type Theme = Static<typeof ThemeSchema>

export const EMBEDDING_ENV = {
  /** Origins that may frame the settings page, comma-separated (`https://app.example.com,https://admin.example.com`). */
  UI_FRAME_ANCESTORS: Type.Optional(Type.String({ minLength: 1 })),
  /** The page's theme as JSON: `{"accent":"#0b5cff","font":"Inter, sans-serif","radius":"4px","logo":"https://…"}`. */
  UI_THEME: Type.Optional(Type.String({ minLength: 2 })),
}

export const EMBEDDING_HINTS = {
  UI_FRAME_ANCESTORS: 'origins such as https://app.example.com, comma-separated',
  UI_THEME:
    'a JSON object of accent, accentDark, ink, background, card, topbar (#rrggbb), font (font names), radius (px or rem) and logo (an https:// URL)',
}

/** An origin as a browser sends it: scheme, host and port, nothing else. */
function asOrigin(value: string): string | undefined {
  // what a CSP source and an HTML attribute can carry as they are: no quote, space or semicolon
  if (!/^https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?\/?$/.test(value)) return undefined
  try {
    const url = new URL(value)
    if (!['https:', 'http:'].includes(url.protocol) || url.origin === 'null') return undefined
    // a path, a query or a user would be ignored by the browser: refuse what does not say what it does
    return url.origin === value.replace(/\/$/, '') ? url.origin : undefined
  } catch {
    return undefined
  }
}

/** The two variables as config, or the name of the one that is not valid. */
export function embeddingConfig(e: {
  UI_FRAME_ANCESTORS?: string | undefined
  UI_THEME?: string | undefined
}): EmbeddingConfig | { invalid: keyof typeof EMBEDDING_HINTS } {
  const origins = (e.UI_FRAME_ANCESTORS ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
  const frameAncestors = origins.map(asOrigin)
  if (frameAncestors.some((o) => o === undefined)) return { invalid: 'UI_FRAME_ANCESTORS' }
  let theme: unknown
  try {
    theme = e.UI_THEME === undefined ? {} : JSON.parse(e.UI_THEME)
  } catch {
    return { invalid: 'UI_THEME' }
  }
  if (!Value.Check(ThemeSchema, theme)) return { invalid: 'UI_THEME' }
  return { frameAncestors: frameAncestors as string[], theme }
}

/** The theme as the stylesheet `/ui/theme.css` serves it: the page's custom properties set again. */
export function themeCss(theme: Partial<Theme>): string {
  const vars: [string, string | undefined][] = [
    ['--accent', theme.accent],
    ['--accent-dark', theme.accentDark],
    ['--ink', theme.ink],
    ['--bg', theme.background],
    ['--card', theme.card],
    ['--topbar', theme.topbar],
    ['--font', theme.font],
    ['--radius', theme.radius],
  ]
  const set = vars.filter(([, v]) => v !== undefined).map(([k, v]) => `  ${k}: ${v};`)
  const root = set.length > 0 ? `:root {\n${set.join('\n')}\n}\n` : ''
  const logo = theme.logo
    ? `.brand-logo {\n  display: inline-block;\n  background-image: url('${theme.logo}');\n}\n`
    : ''
  return root + logo
}
