// The key form shown instead of a 401/403: trades the key for a cookie, then reloads the page asked for.
const script = document.querySelector('script[data-next]');
const next = script?.dataset.next || '/';
document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = new FormData(event.target).get('key');
  const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
  if (res.ok) location.assign(next.startsWith('/') ? next : '/');
  else document.getElementById('login-error').textContent = res.status === 403 ? 'That key is not accepted.' : `Login failed (${res.status}).`;
});
