import Ajv, { type AnySchema } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance } from 'fastify'

/**
 * Two validators: bodies are checked as they are (no type coercion, no stripping of unknown
 * fields, which the schemas refuse), while path and query parameters, always strings on the wire,
 * are coerced to the numbers and arrays their schemas declare.
 */
export function installValidation(app: FastifyInstance, shared: AnySchema[]) {
  const make = (coerce: boolean) => {
    const ajv = new Ajv.default({
      allErrors: false,
      coerceTypes: coerce ? 'array' : false,
      useDefaults: true,
      removeAdditional: false,
      strict: false,
    })
    addFormats.default(ajv)
    for (const s of shared) ajv.addSchema(s)
    return ajv
  }
  const bodies = make(false)
  const params = make(true)
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodies : params).compile(schema as AnySchema),
  )
}
