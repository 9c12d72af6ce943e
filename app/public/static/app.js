// Tiny front-end: search as you type, via GET /api/search. Text is inserted with textContent only.
const input = document.getElementById('q');
const results = document.getElementById('results');
const status = document.getElementById('status');
let timer;
let latest = 0;

async function search(q) {
  const id = ++latest;
  if (!q.trim()) {
    results.replaceChildren();
    status.textContent = '';
    return;
  }
  const started = performance.now();
  try {
    const res = await fetch(`/api/search?q=${encodeURIComponent(q)}&limit=20`);
    const body = await res.json();
    if (id !== latest) return;
    if (!res.ok) {
      status.textContent = body.error || `HTTP ${res.status}`;
      results.replaceChildren();
      return;
    }
    status.textContent = `${body.items.length} match(es) in ${Math.round(performance.now() - started)} ms`;
    results.replaceChildren(
      ...body.items.map((item) => {
        const li = document.createElement('li');
        const small = document.createElement('small');
        li.textContent = `${item.name} `;
        small.textContent = `${item.category} · similarity ${item.score.toFixed(2)}`;
        li.append(small);
        return li;
      }),
    );
  } catch (error) {
    if (id === latest) status.textContent = `search failed: ${error.message}`;
  }
}

input.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => search(input.value), 200);
});
