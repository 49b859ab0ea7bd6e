// engram's web UI: ask a question (answer + evidence cards that play the clip, with what the
// detector saw and its boxes), a timeline of events per stream coloured by label, a live list of
// new events over server-sent events, the streams, and the people face clustering found.
// Plain DOM, no framework; every text goes in through textContent, never innerHTML.

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const res = await fetch(path, { credentials: 'same-origin', ...options, headers: { accept: 'application/json', ...(options.body ? { 'content-type': 'application/json' } : {}), ...(options.headers || {}) } });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error((body && body.message) || `${res.status} ${res.statusText}`);
  return body;
}

const fmtTime = (t) => {
  // Events carry epoch ms; answers carry ISO 8601 text.
  const d = typeof t === 'number' || typeof t === 'string' ? new Date(t) : null;
  return d && Number.isFinite(d.getTime()) ? d.toLocaleString() : '';
};
const fmtSpan = (s) => {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
};

// ---- answer and evidence ---------------------------------------------------------------

/** Reads an evidence item whatever the exact field names of the answer JSON. */
function evidenceView(item) {
  const ev = item.event && typeof item.event === 'object' ? { ...item.event, ...item } : item;
  return {
    id: ev.eventId ?? ev.id ?? ev.event?.id,
    stream: ev.stream ?? '',
    start: ev.start,
    end: ev.end,
    startedAt: ev.startedAt ?? ev.wallStart ?? ev.at,
    quote: ev.quote ?? ev.transcript ?? ev.ocr ?? ev.summary ?? '',
    score: ev.score,
    hasThumbnail: ev.thumbnail !== null && ev.thumbnail !== undefined && ev.thumbnail !== '',
    labels: Array.isArray(ev.labels) ? ev.labels : [],
    people: Array.isArray(ev.people) ? ev.people : [],
    counts: ev.counts && typeof ev.counts === 'object' ? ev.counts : {},
  };
}

/** "car ×2 (at most 1 at once) · person ×1": what the detector saw in an event (no plurals to get wrong). */
function objectsText(labels, counts) {
  return labels
    .map((label) => {
      const c = counts[label];
      if (!c) return label;
      return `${label} ×${c.distinct}${c.max > 1 && c.max !== c.distinct ? ` (at most ${c.max} at once)` : ''}`;
    })
    .join(' · ');
}

/** A stable colour per label, so the same label looks the same on every lane. */
function labelColour(label) {
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h} 65% 50%)`;
}

/** Label chips: a colour swatch (the timeline's colour for the label) and the count in words. */
function labelChips(labels, counts) {
  if (labels.length === 0) return null;
  return el(
    'ul',
    { class: 'labels', 'aria-label': 'what the detector saw' },
    ...labels.map((label) => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = labelColour(label);
      return el('li', { class: 'chip', 'data-label': label }, swatch, objectsText([label], counts));
    }),
  );
}

/**
 * Draws the detector's boxes over a thumbnail. Boxes are in pixels of the keyframe the detector
 * saw (`frame`), which is scaled differently from the thumbnail; percentages of the frame place
 * them on the picture at whatever size the card shows it.
 */
function drawBoxes(overlay, found) {
  const frame = Array.isArray(found.frame) ? found.frame : null;
  if (!frame || !(frame[0] > 0 && frame[1] > 0)) return;
  const pct = (v, of) => `${Math.min(Math.max((v / of) * 100, 0), 100)}%`;
  const boxes = found.detections.filter((d) => Array.isArray(d.box) && d.box.length === 4).map((d) => {
    const [x1, y1, x2, y2] = d.box;
    const box = el('div', { class: 'box', 'data-label': d.label }, el('span', { class: 'box-label', text: `${d.label} ${Math.round(d.score * 100)}%` }));
    box.style.left = pct(x1, frame[0]);
    box.style.top = pct(y1, frame[1]);
    box.style.width = pct(x2 - x1, frame[0]);
    box.style.height = pct(y2 - y1, frame[1]);
    box.style.borderColor = labelColour(d.label);
    box.firstChild.style.background = labelColour(d.label);
    return box;
  });
  overlay.replaceChildren(...boxes);
  overlay.setAttribute('aria-label', boxes.length ? `detections: ${found.detections.map((d) => d.label).join(', ')}` : 'no detections');
}

/** A bar's background: one horizontal band per label, so an event with a person and a car shows both. */
function labelBands(labels) {
  if (labels.length === 1) return labelColour(labels[0]);
  const step = 100 / labels.length;
  const stops = labels.map((label, i) => `${labelColour(label)} ${(i * step).toFixed(1)}% ${((i + 1) * step).toFixed(1)}%`);
  return `linear-gradient(180deg, ${stops.join(', ')})`;
}

function card(view) {
  const img = el('img', { alt: `thumbnail of ${view.stream} at ${fmtSpan(view.start)}`, loading: 'lazy' });
  const overlay = el('div', { class: 'boxes', role: 'img', 'aria-label': 'no detections' });
  if (view.id && view.hasThumbnail) {
    img.src = `/api/events/${encodeURIComponent(view.id)}/thumbnail`;
    // Only events that held something have boxes worth a request.
    if (view.labels.length > 0) {
      api(`/api/events/${encodeURIComponent(view.id)}/detections`).then((found) => drawBoxes(overlay, found)).catch(() => undefined);
    }
  }
  const when = [fmtTime(view.startedAt), `${fmtSpan(view.start)}–${fmtSpan(view.end)}`].filter(Boolean).join(' · ');
  const meta = el(
    'div',
    { class: 'meta' },
    el('div', { class: 'stream', text: view.stream }),
    el('div', { class: 'when', text: when }),
    labelChips(view.labels, view.counts),
    view.people.length > 0 ? el('div', { class: 'people-seen', text: `People: ${peopleText(view.people)}` }) : null,
    view.quote ? el('blockquote', { text: String(view.quote).slice(0, 240) }) : null,
    typeof view.score === 'number' ? el('div', { class: 'muted', text: `score ${view.score.toFixed(2)}` }) : null,
  );
  return el('button', { type: 'button', class: 'card evidence-card', title: 'play this moment', onclick: () => play(view) }, el('div', { class: 'thumb' }, img, overlay), meta);
}

$('show-boxes').addEventListener('change', (event) => {
  $('evidence').classList.toggle('no-boxes', !event.target.checked);
});

function play(view) {
  if (!view.id) return;
  const video = $('clip');
  video.src = `/api/events/${encodeURIComponent(view.id)}/clip`;
  $('clip-caption').textContent = `${view.stream} · ${fmtTime(view.startedAt)} ${view.quote ? `· “${String(view.quote).slice(0, 120)}”` : ''}`;
  $('player').hidden = false;
  video.play().catch(() => undefined);
}

$('close-clip').addEventListener('click', () => {
  const video = $('clip');
  video.pause();
  video.removeAttribute('src');
  video.load();
  $('player').hidden = true;
});

/** A picture or sound file as the data URL POST /api/query takes for `image` or `audio`. */
function readDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error(`${file.name}: could not be read`));
    reader.readAsDataURL(file);
  });
}

$('ask').addEventListener('submit', async (event) => {
  event.preventDefault();
  const question = $('question').value.trim();
  const file = $('example').files[0];
  if (!question && !file) {
    $('status').textContent = 'Ask a question, or choose a picture or a sound to search by example.';
    $('status').className = 'error';
    return;
  }
  $('status').textContent = 'Thinking…';
  $('status').className = '';
  $('answer').hidden = true;
  try {
    const body = question ? { question } : {};
    if (file) body[file.type.startsWith('image/') ? 'image' : 'audio'] = await readDataUrl(file);
    const result = await api('/api/query', { method: 'POST', body: JSON.stringify(body) });
    const text = typeof result.answer === 'string' ? result.answer : (result.answer?.text ?? result.text ?? '');
    $('answer-text').textContent = text || 'No answer.';
    const evidence = Array.isArray(result.evidence) ? result.evidence : (result.answer?.evidence ?? []);
    $('evidence').replaceChildren(...evidence.map((item) => card(evidenceView(item))));
    $('answer').hidden = false;
    $('status').textContent = evidence.length ? `${evidence.length} piece${evidence.length > 1 ? 's' : ''} of evidence` : '';
  } catch (error) {
    $('status').textContent = error.message;
    $('status').className = 'error';
  }
});

// ---- timeline --------------------------------------------------------------------------

/** What the timeline is narrowed to: a detector label (from the legend) or a person (from the people view). */
const timelineFilter = { label: null, person: null };

function setTimelineFilter(kind, value) {
  timelineFilter.label = kind === 'label' ? value : null;
  timelineFilter.person = kind === 'person' ? value : null;
  loadTimeline();
}

function renderTimelineFilter() {
  const { label, person } = timelineFilter;
  if (!label && !person) return $('timeline-filter').replaceChildren();
  const what = label ? `events where the detector saw “${label}”` : `events where ${peopleText([person])} was seen`;
  $('timeline-filter').replaceChildren(`Showing only ${what}. `, el('button', { type: 'button', class: 'link', text: 'Show all events', onclick: () => setTimelineFilter(null, null) }));
}

async function loadTimeline() {
  renderTimelineFilter();
  try {
    const query = new URLSearchParams({ limit: '500' });
    if (timelineFilter.label) query.set('label', timelineFilter.label);
    if (timelineFilter.person) query.set('person', timelineFilter.person);
    const { events } = await api(`/api/events?${query}`);
    const byStream = new Map();
    for (const e of events) {
      if (!byStream.has(e.stream)) byStream.set(e.stream, []);
      byStream.get(e.stream).push(e);
    }
    if (events.length === 0) {
      $('timeline').replaceChildren(el('p', { class: 'hint', text: timelineFilter.label || timelineFilter.person ? 'No events match.' : 'No events yet.' }));
      $('timeline-range').textContent = '';
      $('timeline-legend').replaceChildren();
      return;
    }
    const from = Math.min(...events.map((e) => e.startedAt));
    const to = Math.max(...events.map((e) => e.endedAt));
    const span = Math.max(to - from, 1);
    $('timeline-range').textContent = `${fmtTime(from)} → ${fmtTime(to)}`;
    const seen = new Set();
    const lanes = [...byStream.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([stream, list]) => {
      const track = el('div', { class: 'track' });
      for (const e of list) {
        const labels = Array.isArray(e.labels) ? e.labels : [];
        const held = (labels.length > 0 ? `\n${objectsText(labels, e.counts ?? {})}` : '') + (Array.isArray(e.people) && e.people.length > 0 ? `\nPeople: ${peopleText(e.people)}` : '');
        const text = `${fmtTime(e.startedAt)} ${e.summary || ''}${held}`;
        const bar = el('button', { type: 'button', class: 'ev', title: text, 'aria-label': text.replaceAll('\n', ' · '), onclick: () => play(evidenceView(e)) });
        // Coloured by the labels it held (a band per label): people and cars stand out on the lane.
        if (labels.length > 0) {
          bar.style.background = labelBands(labels);
          bar.dataset.labels = labels.join(',');
          for (const label of labels) seen.add(label);
        }
        bar.style.left = `${((e.startedAt - from) / span) * 100}%`;
        bar.style.width = `${Math.max(((e.endedAt - e.startedAt) / span) * 100, 0.3)}%`;
        track.append(bar);
      }
      return el('div', { class: 'lane' }, el('span', { class: 'lane-name', text: stream }), track);
    });
    $('timeline').replaceChildren(...lanes);
    $('timeline-legend').replaceChildren(
      ...[...seen].sort().map((label) => {
        const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.background = labelColour(label);
        // A legend entry is also the filter for its label: pressed, the timeline shows only its events.
        const pressed = timelineFilter.label === label;
        const button = el('button', { type: 'button', class: 'legend-item', 'aria-pressed': String(pressed), title: pressed ? 'show all events' : `show only events with ${label}`, onclick: () => setTimelineFilter(pressed ? null : 'label', label) }, swatch, label);
        return el('li', { 'data-label': label }, button);
      }),
    );
  } catch (error) {
    $('timeline').replaceChildren(el('p', { class: 'error', text: `Timeline: ${error.message}` }));
  }
}

// ---- streams -----------------------------------------------------------------------------

const streams = new Map();

function renderStreams() {
  const rows = [...streams.values()].sort((a, b) => a.name.localeCompare(b.name)).map((s) =>
    el(
      'tr',
      {},
      el('td', { text: s.name }),
      el('td', { class: `state-${s.state}`, text: s.state ?? '' }),
      el('td', { text: typeof s.lagS === 'number' ? `${s.lagS.toFixed(1)} s` : '' }),
      el('td', { text: String(s.droppedFrames ?? '') }),
      el('td', { text: String(Array.isArray(s.gaps) ? s.gaps.length : (s.gaps ?? '')) }),
      el('td', {}, el('button', { type: 'button', class: 'link', text: 'stop', onclick: () => stopStream(s.name) })),
    ),
  );
  $('streams').tBodies[0].replaceChildren(...rows);
}

async function loadStreams() {
  try {
    const result = await api('/api/streams');
    streams.clear();
    for (const s of result.streams) streams.set(s.name, s);
    renderStreams();
    $('streams-status').textContent = '';
  } catch (error) {
    $('streams-status').textContent = error.message;
  }
}

async function stopStream(name) {
  try {
    await api(`/api/streams/${encodeURIComponent(name)}`, { method: 'DELETE' });
    await loadStreams();
  } catch (error) {
    $('streams-status').textContent = error.message;
  }
}

$('add-stream').addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(event.target);
  try {
    await api('/api/streams', { method: 'POST', body: JSON.stringify({ name: data.get('name'), url: data.get('url') }) });
    event.target.reset();
    await loadStreams();
  } catch (error) {
    $('streams-status').textContent = error.message;
  }
});

// ---- people -----------------------------------------------------------------------------

let people = [];

const personName = (p) => p.name ?? `Unnamed ${p.id.slice(0, 8)}`;

/** Names of the identities an event carries, as the people view shows them. */
function peopleText(ids) {
  return ids.map((id) => {
    const p = people.find((x) => x.id === id);
    return p ? personName(p) : `Unnamed ${id.slice(0, 8)}`;
  }).join(', ');
}

function setPeopleStatus(text, error = false) {
  $('people-status').textContent = text;
  $('people-status').className = error ? 'error' : '';
}

/** Runs a change to people, then shows the list as the server now has it. */
async function changePeople(work, done) {
  let message = done;
  let failed = false;
  try {
    await work();
  } catch (error) {
    message = error.message;
    failed = true;
  }
  // The list first, then the word: "Forgot Ann." must not show while Ann's card still does.
  await loadPeople();
  setPeopleStatus(message, failed);
  // Names and merges change what the timeline's events say about who was there.
  await loadTimeline();
}

function personCard(p) {
  const label = personName(p);
  // The crop changes when people are merged or forgotten; the face count keys the cache.
  const face = el('img', { class: 'face', alt: `face of ${label}`, src: `/api/people/${encodeURIComponent(p.id)}/crop?faces=${p.faces}` });
  const nameInput = el('input', { name: 'name', id: `name-${p.id}`, value: p.name ?? '', maxlength: '100', required: '', autocomplete: 'off' });
  const nameForm = el(
    'form',
    {
      class: 'name-form',
      onsubmit: (event) => {
        event.preventDefault();
        const name = nameInput.value.trim();
        changePeople(() => api(`/api/people/${encodeURIComponent(p.id)}`, { method: 'PATCH', body: JSON.stringify({ name }) }), `Named ${label} “${name}”.`);
      },
    },
    el('label', { for: `name-${p.id}`, text: 'Name' }),
    nameInput,
    el('button', { type: 'submit', text: 'Save name' }),
  );
  const others = people.filter((o) => o.id !== p.id);
  const target = el('select', { name: 'into', id: `into-${p.id}` }, ...others.map((o) => el('option', { value: o.id, text: `${personName(o)} (${o.faces} faces)` })));
  const mergeForm = others.length === 0 ? null : el(
    'form',
    {
      class: 'merge-form',
      onsubmit: (event) => {
        event.preventDefault();
        const into = people.find((o) => o.id === target.value);
        if (!into) return;
        if (!window.confirm(`Merge ${label} into ${personName(into)}? Every face of ${label} becomes ${personName(into)}'s. This cannot be undone.`)) return;
        changePeople(() => api('/api/people/merge', { method: 'POST', body: JSON.stringify({ kept: into.id, absorbed: p.id }) }), `Merged ${label} into ${personName(into)}.`);
      },
    },
    el('label', { for: `into-${p.id}`, text: 'Same person as' }),
    target,
    el('button', { type: 'submit', text: 'Merge' }),
  );
  const onTimeline = el('button', {
    type: 'button',
    class: 'link',
    text: 'Show on the timeline',
    onclick: () => {
      setTimelineFilter('person', p.id);
      $('timeline-section').scrollIntoView({ behavior: 'smooth' });
    },
  });
  const forget = el('button', {
    type: 'button',
    class: 'danger',
    text: 'Forget',
    'aria-label': `forget ${label}`,
    onclick: () => {
      if (!window.confirm(`Forget ${label}? Every face descriptor and face crop of this person is deleted, and questions no longer find them. This cannot be undone.`)) return;
      changePeople(() => api(`/api/people/${encodeURIComponent(p.id)}`, { method: 'DELETE' }), `Forgot ${label}.`);
    },
  });
  const sightings = el(
    'ul',
    { class: 'sightings', 'aria-label': `where ${label} was seen` },
    ...p.sightings.slice(0, 8).map((s) => {
      const text = `${s.stream} ${fmtSpan(s.start)}–${fmtSpan(s.end)}`;
      return el('li', {}, s.eventId ? el('button', { type: 'button', class: 'link', text, title: 'play this sighting', onclick: () => play({ id: s.eventId, stream: s.stream, quote: '' }) }) : text);
    }),
  );
  // Every kept face, fetched when opened: one look tells whether a merge (or a split) is right.
  const strip = el('div', { class: 'faces' });
  const allFaces = el(
    'details',
    {
      class: 'face-list',
      ontoggle: (event) => {
        if (!event.target.open || strip.dataset.loaded) return;
        strip.dataset.loaded = 'yes';
        api(`/api/people/${encodeURIComponent(p.id)}/faces`)
          .then((faces) => {
            const shown = faces.slice(0, 48).map((f) => {
              const where = `${f.stream} at ${fmtSpan(f.t)}`;
              return el('img', { class: 'face-small', src: `/api/people/${encodeURIComponent(p.id)}/faces/${encodeURIComponent(f.id)}/crop`, alt: `face of ${label}, ${where}`, title: `${where} · score ${f.score.toFixed(2)}`, loading: 'lazy' });
            });
            if (faces.length > 48) shown.push(el('span', { class: 'muted', text: ` and ${faces.length - 48} more` }));
            strip.replaceChildren(...shown);
          })
          .catch((error) => strip.replaceChildren(el('span', { class: 'error', text: error.message })));
      },
    },
    el('summary', { text: `All ${p.faces} face${p.faces === 1 ? '' : 's'}` }),
    strip,
  );
  const more = p.sightings.length > 8 ? el('p', { class: 'muted', text: `and ${p.sightings.length - 8} more sightings` }) : null;
  return el(
    'article',
    { class: 'person', 'data-id': p.id, 'aria-label': label },
    face,
    el(
      'div',
      { class: 'meta' },
      el('h3', { text: label }),
      el('div', { class: 'muted', text: `${p.faces} face${p.faces === 1 ? '' : 's'} · first seen ${fmtTime(p.firstSeen)} · last seen ${fmtTime(p.lastSeen)}` }),
      sightings,
      more,
      onTimeline,
      allFaces,
      nameForm,
      mergeForm,
      forget,
    ),
  );
}

async function loadPeople() {
  try {
    people = await api('/api/people');
    $('people').replaceChildren(...(people.length ? people.map(personCard) : [el('p', { class: 'hint', text: 'No faces recognised yet.' })]));
  } catch (error) {
    // Faces turned off (409) or no memory in this process: say so in place of the list.
    $('people').replaceChildren(el('p', { class: 'hint', text: error.message }));
  }
}

// ---- live --------------------------------------------------------------------------------

function liveItem(e) {
  const img = el('img', { alt: '' });
  if (e.thumbnail) img.src = `/api/events/${encodeURIComponent(e.id)}/thumbnail`;
  return el(
    'li',
    { class: 'live-event', onclick: () => play(evidenceView(e)) },
    img,
    el(
      'div',
      {},
      el('strong', { text: e.stream }),
      el('span', { class: 'muted', text: ` ${fmtTime(e.startedAt)}` }),
      el('div', { text: e.summary || (e.tags || []).join(', ') }),
      labelChips(Array.isArray(e.labels) ? e.labels : [], e.counts ?? {}),
    ),
  );
}

function connectLive() {
  const source = new EventSource('/api/live');
  source.addEventListener('hello', () => {
    $('live-state').textContent = 'live';
    $('live-state').className = 'pill ok';
  });
  source.addEventListener('event', (message) => {
    const e = JSON.parse(message.data);
    $('live').prepend(liveItem(e));
    while ($('live').children.length > 100) $('live').lastElementChild.remove();
    scheduleTimeline();
  });
  source.addEventListener('stream', (message) => {
    const s = JSON.parse(message.data);
    const known = streams.get(s.stream) ?? { name: s.stream };
    streams.set(s.stream, { ...known, name: s.stream, state: s.state, lagS: s.lagS ?? known.lagS, droppedFrames: s.droppedFrames ?? known.droppedFrames, gaps: s.gaps ?? known.gaps });
    renderStreams();
  });
  source.addEventListener('error', () => {
    $('live-state').textContent = 'reconnecting';
    $('live-state').className = 'pill';
  });
}

let timelineTimer;
function scheduleTimeline() {
  clearTimeout(timelineTimer);
  timelineTimer = setTimeout(loadTimeline, 2000);
}

loadStreams();
// The timeline names people, so it waits for them (an error there still shows the timeline).
loadPeople().finally(loadTimeline);
connectLive();
// Lag and drops change continuously; live messages carry state changes, this keeps the numbers fresh.
setInterval(loadStreams, 5000);
