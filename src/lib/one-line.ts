/**
 * One line of text: control characters (CR/LF above all, which could start a forged header in a
 * subject or a fake paragraph in a mail's body) and Unicode line/paragraph separators become spaces.
 */
export function oneLine(value: string): string {
  return (
    value
      // eslint-disable-next-line no-control-regex -- control characters are exactly what this must find
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
      .replace(/ {2,}/g, ' ')
      .trim()
  )
}
