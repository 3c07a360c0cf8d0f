// Keyset paging for a list page: a stack of cursors for 上一页 / 下一页 over `{items, next_cursor}` answers.
import { computed, ref } from 'vue'
import { showError } from '../../lib/api.js'

export function usePager(fetchPage) {
  const items = ref([])
  const loading = ref(false)
  const stack = ref([null]) // the cursor of each page seen; the last is the current page's
  const nextCursor = ref(null)
  const page = computed(() => stack.value.length)

  async function load() {
    loading.value = true
    try {
      const answer = await fetchPage(stack.value[stack.value.length - 1])
      items.value = answer.items
      nextCursor.value = answer.next_cursor
    } catch (err) {
      showError(err)
    } finally {
      loading.value = false
    }
  }
  const first = () => { stack.value = [null]; return load() }
  const next = () => { if (nextCursor.value) { stack.value.push(nextCursor.value); return load() } }
  const prev = () => { if (stack.value.length > 1) { stack.value.pop(); return load() } }
  return { items, loading, page, nextCursor, load, first, next, prev }
}
