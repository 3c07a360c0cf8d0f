// The rule builder's tree and the API's rule JSON, each made from the other.
// API: {"all": [...]}, {"any": [...]}, {"not": rule}, or a condition {"field", "op", "value"}.
// Tree: a group {id, kind: 'all'|'any', negate, children} or a condition {id, field, op, value}.

let next = 1
const newId = () => `n${next++}`

export const newCondition = () => ({ id: newId(), field: '', op: '', value: null })
export const newGroup = (kind = 'all', children = null) => ({
  id: newId(), kind, negate: false, children: children ?? [newCondition()],
})

export const isGroup = (node) => Array.isArray(node?.children)

/** The API's rule JSON for a tree. */
export function toRule(node) {
  if (!isGroup(node)) {
    const c = { field: node.field, op: node.op }
    c.value = node.op === 'exists' && typeof node.value !== 'boolean' ? true : node.value
    return c
  }
  const inner = { [node.kind]: node.children.map(toRule) }
  return node.negate ? { not: inner } : inner
}

/** A tree for the API's rule JSON (the root is always a group); throws on what is not a rule. */
export function fromRule(rule) {
  const node = parse(rule)
  return isGroup(node) ? node : newGroup('all', [node])
}

function parse(rule) {
  if (!rule || typeof rule !== 'object' || Array.isArray(rule)) throw new Error('规则须为对象')
  for (const kind of ['all', 'any']) {
    if (kind in rule) {
      if (!Array.isArray(rule[kind])) throw new Error(`${kind} 须为规则列表`)
      return { id: newId(), kind, negate: false, children: rule[kind].map(parse) }
    }
  }
  if ('not' in rule) {
    const inner = parse(rule.not)
    const group = isGroup(inner) ? inner : newGroup('all', [inner])
    group.negate = !group.negate
    return group
  }
  return { id: newId(), field: rule.field ?? '', op: rule.op ?? '', value: rule.value ?? null }
}

/** The shape of value an operator takes (from the attribute catalogue). */
export function valueShape(attr, op) {
  return attr?.operators?.find((o) => o.op === op)?.value ?? 'scalar'
}

/** A value fitting a new operator, kept from the old one where it can be. */
export function fitValue(attr, op, value) {
  const shape = valueShape(attr, op)
  if (shape === 'bool') return typeof value === 'boolean' ? value : true
  if (shape === 'list') {
    if (Array.isArray(value)) return value
    return value === null || value === undefined || value === '' || typeof value === 'boolean' ? [] : [value]
  }
  const one = Array.isArray(value) ? value[0] ?? null : value
  if (shape === 'text_prefix') return typeof one === 'string' ? one : ''
  if (attr?.type === 'bool') return typeof one === 'boolean' ? one : true
  if (attr?.type === 'int') return Number.isInteger(one) ? one : null
  return typeof one === 'string' ? one : null
}

function scalarOk(attr, v) {
  if (attr.type === 'int') {
    if (!Number.isInteger(v)) return false
    return !attr.bounds || (v >= attr.bounds[0] && v <= attr.bounds[1])
  }
  if (attr.type === 'date') return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)
  if (attr.type === 'bool') return typeof v === 'boolean'
  if (typeof v !== 'string' || !v) return false
  if (attr.digits) return new RegExp(`^\\d{${attr.digits}}$`).test(v)
  return true
}

/** Problems that keep the tree from being a valid rule, in Chinese (empty: ready to count). */
export function problems(node, attrs, out = []) {
  if (isGroup(node)) {
    if (node.children.length === 0) out.push('条件组不能为空')
    node.children.forEach((c) => problems(c, attrs, out))
    return out
  }
  const attr = attrs[node.field]
  if (!attr) { out.push('有条件未选字段'); return out }
  if (!attr.ops.includes(node.op)) { out.push(`“${attr.label}”未选运算`); return out }
  const shape = valueShape(attr, node.op)
  const v = node.value
  const ok = shape === 'bool' ? typeof v === 'boolean'
    : shape === 'list' ? Array.isArray(v) && v.length > 0 && v.every((x) => scalarOk(attr, x))
      : shape === 'text_prefix' ? typeof v === 'string' && v.length > 0 && (!attr.digits || new RegExp(`^\\d{1,${attr.digits}}$`).test(v))
        : scalarOk(attr, v)
  if (!ok) out.push(`“${attr.label}”的值未填或不合格式`)
  return out
}
