// The public API, as any client calls it: bearer token, JSON, one refresh on 401, errors as ApiError.
import { ElMessage } from 'element-plus'
import { session, saveSession, clearSession } from './session.js'
import router from '../router.js'

export class ApiError extends Error {
  // The API answers errors as {"error": {"code", "message", "fields"?, "request_id"}}.
  constructor(status, body) {
    const error = body?.error || {}
    super(error.message || `请求失败（${status}）`)
    this.status = status
    this.code = error.code
    this.fields = error.fields
    this.requestId = error.request_id
  }
}

let refreshing = null

async function refreshTokens() {
  if (!session.refresh) return false
  refreshing ??= fetch('/api/v1/admin/auth/refresh', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: session.refresh }),
  }).then(async (r) => {
    if (!r.ok) return false
    saveSession(await r.json())
    return true
  }).finally(() => { refreshing = null })
  return refreshing
}

function query(params) {
  if (!params) return ''
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.append(k, v)
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** Sends one request; `raw` returns the Response (for files), otherwise the parsed JSON body. */
export async function request(method, path, { params, body, headers = {}, raw = false, form } = {}, retried = false) {
  const init = { method, headers: { ...headers } }
  if (session.access) init.headers.Authorization = `Bearer ${session.access}`
  if (form) init.body = form
  else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const r = await fetch(`/api/v1${path}${query(params)}`, init)
  if (r.status === 401 && !retried && path !== '/admin/auth/login' && (await refreshTokens())) {
    return request(method, path, { params, body, headers, raw, form }, true)
  }
  if (r.status === 401 && path !== '/admin/auth/login') {
    clearSession()
    router.push({ name: 'login', query: { next: router.currentRoute.value.fullPath } })
  }
  if (!r.ok) {
    let data = null
    try { data = await r.json() } catch { /* not JSON */ }
    throw new ApiError(r.status, data)
  }
  if (raw) return r
  if (r.status === 204) return null
  return r.json()
}

export const api = {
  get: (path, params) => request('GET', path, { params }),
  post: (path, body, opts = {}) => request('POST', path, { body, ...opts }),
  put: (path, body) => request('PUT', path, { body }),
  patch: (path, body) => request('PATCH', path, { body }),
  del: (path) => request('DELETE', path),
}

/** Shows an API error to the user in Chinese (field messages when the API gave them). */
export function showError(err) {
  const extra = err?.fields ? '：' + Object.values(err.fields).join('；') : ''
  ElMessage.error((err?.message || '操作失败') + extra)
}

/** A fresh Idempotency-Key for one user action (kept by the caller across its retries). */
export function idempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`
}
