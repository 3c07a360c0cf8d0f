// Keyset paging as the API does it: `limit` and `cursor` in, `next_cursor` out; a stack of cursors for 上一页.
import { ref, computed } from 'vue'
import { showError } from './api.js'

/** `load(cursor)` returns one page `{items, next_cursor}`; errors are shown and leave the page as it was. */
export function useKeyset(load) {
  const items = ref([])
  const loading = ref(false)
  const loaded = ref(false)
  const stack = ref([])
  const cursor = ref(null)
  const next = ref(null)
  const error = ref(null)

  async function fetchAt(c) {
    loading.value = true
    try {
      const page = await load(c)
      items.value = page.items
      next.value = page.next_cursor || null
      cursor.value = c
      error.value = null
      return true
    } catch (err) {
      error.value = err
      showError(err)
      return false
    } finally {
      loading.value = false
      loaded.value = true
    }
  }

  return {
    items, loading, loaded, error,
    pageNo: computed(() => stack.value.length + 1),
    hasPrev: computed(() => stack.value.length > 0),
    hasNext: computed(() => !!next.value),
    async reset() { stack.value = []; await fetchAt(null) },
    async reload() { await fetchAt(cursor.value) },
    async nextPage() {
      if (!next.value) return
      const here = cursor.value
      if (await fetchAt(next.value)) stack.value.push(here)
    },
    async prevPage() {
      if (!stack.value.length) return
      const before = stack.value[stack.value.length - 1]
      if (await fetchAt(before)) stack.value.pop()
    },
  }
}
