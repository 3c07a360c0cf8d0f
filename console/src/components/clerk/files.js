// Files fetched with the bearer token (a plain link would carry no token), shown or saved from blob: URLs.
import { request } from '../../lib/api.js'

/** GETs `path` as a blob: {url, type, blob}; the caller revokes the URL when done. */
export async function fetchBlob(path, params) {
  const r = await request('GET', path, { params, raw: true })
  const blob = await r.blob()
  const type = (r.headers.get('Content-Type') || blob.type || '').split(';')[0]
  return { url: URL.createObjectURL(blob), type, blob }
}

/** Downloads `path` and saves it as `filename`. */
export async function saveFile(path, filename, params) {
  const { url } = await fetchBlob(path, params)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}
