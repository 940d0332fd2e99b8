// The labelsync console: projects, each storage's sync with live progress, and a task browser
// with server-side paging. Plain DOM, no framework, no build step. Every API call sends the
// token kept in localStorage; data from the API only ever becomes text nodes and attributes.
'use strict';

const TOKEN_KEY = 'labelsync.token';
const PROJECTS_PER_PAGE = 30;
const POLL_MS = 1000;
const ACTIVE = new Set(['queued', 'in_progress']);
const FINISHED = new Set(['completed', 'completed_with_errors']);
// Media routes of this server (the API writes these into task data).
const MEDIA_PATH = /^\/(?:(?:tasks|projects)\/\d+\/(?:resolve|presign)|data\/local-files)\/?$/;
const IMAGE_EXTENSION = /\.(?:png|jpe?g|gif|webp|avif|bmp|svg|ico|tiff?)$/i;

const state = {
  projectsPage: 1,
  project: null,
  storages: new Map(),
  poll: null,
  generation: 0,
  tasks: { page: 1, size: 25, total: 0, cursors: new Map() },
  media: { urls: [], abort: new AbortController() },
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// ---- API ----------------------------------------------------------------------------------

function token() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Token ${token()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text };
  }
  if (!response.ok) throw new ApiError(response.status, errorText(response.status, parsed));
  return parsed;
}

// Label Studio's error envelope (`detail`, `validation_errors`) or a sync refusal (`message`).
function errorText(status, body) {
  const parts = [`${status}`];
  if (body && body.detail) parts.push(body.detail);
  if (body && body.message) parts.push(body.message);
  for (const [field, errors] of Object.entries((body && body.validation_errors) || {})) {
    parts.push(`${field}: ${[].concat(errors).join(' ')}`);
  }
  return parts.join(' · ');
}

function showMessage(text, kind = 'error') {
  const message = $('message');
  message.textContent = text;
  message.className = kind;
  message.hidden = !text;
}

function reportError(error) {
  const hint = error.status === 401 ? ' (check the API token)' : '';
  showMessage(`${error.message}${hint}`);
}

// ---- Projects -----------------------------------------------------------------------------

async function loadProjects() {
  const page = state.projectsPage;
  let body;
  try {
    body = await api(`/api/projects?page=${page}&page_size=${PROJECTS_PER_PAGE}`);
  } catch (error) {
    if (error.status === 404 && page > 1) return goToProjectsPage(1);
    return reportError(error);
  }
  showMessage('');
  $('project-list').replaceChildren(...body.results.map(projectItem));
  const pages = Math.max(1, Math.ceil(body.count / PROJECTS_PER_PAGE));
  $('projects-page').textContent = `page ${page} of ${pages} · ${body.count} projects`;
  $('projects-prev').disabled = page <= 1;
  $('projects-next').disabled = !body.next;
}

function goToProjectsPage(page) {
  state.projectsPage = page;
  return loadProjects();
}

function projectItem(project) {
  const button = el('button', { type: 'button', 'data-project': project.id },
    `${project.title || 'Untitled'} (#${project.id})`);
  button.classList.toggle('chosen', state.project?.id === project.id);
  button.addEventListener('click', () => chooseProject(project));
  const counts = el('span', { class: 'muted' },
    ` ${project.task_number} tasks · ${project.total_annotations_number} annotations`);
  return el('li', {}, button, counts);
}

function chooseProject(project) {
  state.project = project;
  state.generation += 1;
  clearTimeout(state.poll);
  state.storages.clear();
  history.replaceState(null, '', `#project=${project.id}`);
  $('project-title').textContent = `${project.title || 'Untitled'} (#${project.id})`;
  $('project').hidden = false;
  for (const item of document.querySelectorAll('[data-project]')) {
    item.classList.toggle('chosen', item.dataset.project === String(project.id));
  }
  loadStorages();
  resetTasks(1);
}

async function restoreProject() {
  const id = /^#project=(\d+)$/.exec(location.hash);
  if (!id) return;
  try {
    chooseProject(await api(`/api/projects/${id[1]}`));
  } catch (error) {
    reportError(error);
  }
}

// ---- Storages -----------------------------------------------------------------------------

function storageBase(role, type) {
  return role === 'export' ? `/api/storages/export/${type}` : `/api/storages/${type}`;
}

function storagePath(entry) {
  return `${storageBase(entry.role, entry.json.type)}/${entry.json.id}`;
}

async function loadStorages() {
  const { id } = state.project;
  const generation = state.generation;
  try {
    const [imports, exports] = await Promise.all([
      api(`/api/storages?project=${id}`),
      api(`/api/storages/export?project=${id}`),
    ]);
    if (generation !== state.generation) return;
    renderStorages('import', imports, $('import-storages'));
    renderStorages('export', exports, $('export-storages'));
    schedulePoll();
  } catch (error) {
    reportError(error);
  }
}

function renderStorages(role, list, container) {
  if (!list.length) return container.replaceChildren(el('p', { class: 'muted' }, 'None.'));
  container.replaceChildren(...list.map((json) => storageCard(role, json)));
}

function storageCard(role, json) {
  const node = $('storage-template').content.firstElementChild.cloneNode(true);
  const entry = { role, json, node };
  node.dataset.storage = `${role}/${json.type}/${json.id}`;
  state.storages.set(node.dataset.storage, entry);
  node.querySelector('.sync').addEventListener('click', () => startSync(entry));
  node.querySelector('.validate').addEventListener('click', () => validate(entry));
  updateCard(entry);
  return node;
}

function updateCard(entry) {
  const { json, node } = entry;
  node.dataset.status = json.status;
  node.querySelector('.storage-name').textContent =
    `${json.title || json.type} · ${json.type} #${json.id}`;
  node.querySelector('.storage-status').textContent = json.status.replaceAll('_', ' ');
  node.querySelector('.storage-status').className = `storage-status status-${json.status}`;
  showProgress(node, progressOf(json));
  const last = json.last_sync ? new Date(json.last_sync).toLocaleString() : 'never';
  node.querySelector('.storage-counts').textContent =
    `last sync: ${last} · tasks created: ${json.last_sync_count ?? 0}`;
  const traceback = node.querySelector('.storage-traceback');
  traceback.hidden = !json.traceback;
  traceback.querySelector('pre').textContent = json.traceback || '';
  node.querySelector('.sync').disabled = ACTIVE.has(json.status) || json.synchronizable === false;
}

function showProgress(node, progress) {
  const bar = node.querySelector('progress');
  if (progress.percent === null) bar.removeAttribute('value');
  else bar.value = progress.percent;
  bar.setAttribute('aria-valuetext', progress.text);
  node.querySelector('.progress-text').textContent = progress.text;
}

function count(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

// The bar is batches done over batches announced. While the listing goes on, more batches
// are announced with every page, so the bar only shows activity (no share) until the listing
// is done; it reaches 100 % when the storage says the sync is over.
function progressOf(json) {
  const created = json.last_sync_count ?? 0;
  if (FINISHED.has(json.status)) return { percent: 100, text: `100 % · ${count(created, 'task')} created` };
  if (json.status === 'failed') return { percent: 0, text: 'failed' };
  if (json.status === 'queued') return { percent: 0, text: 'queued' };
  if (!ACTIVE.has(json.status)) return { percent: 0, text: 'not synced yet' };
  const p = (json.meta && json.meta.progress) || null;
  if (!p) return { percent: null, text: 'starting' };
  const total = p.batches_total || 0;
  const percent = p.listing_done && total
    ? Math.min(99, Math.floor((100 * p.batches_done) / total))
    : null;
  const share = percent === null ? 'listing…' : `${percent} %`;
  const errors = p.errors ? ` · ${count(p.errors, 'error')}` : '';
  const parts = p.parts_total > 1 ? ` in ${p.parts_listed}/${p.parts_total} key ranges` : '';
  return {
    percent,
    text: `${share} · ${count(p.pages_listed, 'page')} listed${parts} · ` +
      `${p.batches_done}/${total} batches · ${count(created, 'task')} created${errors}`,
  };
}

function schedulePoll() {
  clearTimeout(state.poll);
  const active = [...state.storages.values()].some((e) => ACTIVE.has(e.json.status));
  if (active) state.poll = setTimeout(pollActive, POLL_MS);
}

async function pollActive() {
  const generation = state.generation;
  const active = [...state.storages.values()].filter((e) => ACTIVE.has(e.json.status));
  await Promise.all(active.map(refreshStorage));
  if (generation !== state.generation) return;
  const finished = active.filter((e) => !ACTIVE.has(e.json.status));
  for (const entry of finished) setResult(entry, '');
  if (finished.some((e) => e.role === 'import')) {
    loadTasks();
    loadProjects();
  }
  schedulePoll();
}

async function refreshStorage(entry) {
  try {
    entry.json = await api(storagePath(entry));
    updateCard(entry);
  } catch (error) {
    reportError(error);
  }
}

function setResult(entry, text, failed = false) {
  const result = entry.node.querySelector('.action-result');
  result.textContent = text;
  result.className = failed ? 'action-result error' : 'action-result';
}

async function startSync(entry) {
  setResult(entry, 'starting…');
  try {
    entry.json = await api(`${storagePath(entry)}/sync`, { method: 'POST', body: {} });
    updateCard(entry);
    setResult(entry, 'sync started');
    schedulePoll();
  } catch (error) {
    setResult(entry, error.message, true);
  }
}

async function validate(entry) {
  setResult(entry, 'checking…');
  const { id, project, type } = entry.json;
  try {
    await api(`${storageBase(entry.role, type)}/validate`, { method: 'POST', body: { id, project } });
    setResult(entry, 'connection OK');
  } catch (error) {
    setResult(entry, error.message, true);
  }
}

// ---- Tasks --------------------------------------------------------------------------------

// Page n is read with `after=<last id of page n-1>` when that id is known (the next page from
// here costs one page whatever n is), otherwise with `page=n`.
function resetTasks(page) {
  state.tasks.page = page;
  state.tasks.cursors = new Map([[1, null]]);
  loadTasks();
}

function tasksQuery() {
  const { page, size, cursors } = state.tasks;
  const query = new URLSearchParams({ project: state.project.id, page_size: size });
  const after = cursors.get(page);
  if (after != null) query.set('after', after);
  else query.set('page', page);
  return `/api/tasks?${query}`;
}

async function loadTasks() {
  const generation = state.generation;
  const { page } = state.tasks;
  let body;
  try {
    body = await api(tasksQuery());
  } catch (error) {
    return reportError(error);
  }
  if (generation !== state.generation || page !== state.tasks.page) return;
  const last = body.tasks[body.tasks.length - 1];
  if (last) state.tasks.cursors.set(page + 1, last.id);
  state.tasks.total = body.total;
  renderTasks(body.tasks);
}

function pageCount() {
  return Math.max(1, Math.ceil(state.tasks.total / state.tasks.size));
}

function goToTaskPage(page) {
  state.tasks.page = Math.min(Math.max(1, page), pageCount());
  loadTasks();
}

function renderTasks(tasks) {
  releaseMedia();
  const { page, total } = state.tasks;
  $('tasks-page').textContent = `page ${page} of ${pageCount()} · ${total} tasks`;
  $('tasks-prev').disabled = page <= 1;
  $('tasks-first').disabled = page <= 1;
  $('tasks-next').disabled = page >= pageCount();
  $('task-list').replaceChildren(...tasks.map(taskItem));
}

function taskItem(task) {
  const title = el('h4', {}, `Task #${task.id}`);
  const meta = el('span', { class: 'muted' },
    ` ${task.storage_filename || ''} · ${(task.annotations || []).length} annotations`);
  const fields = el('dl');
  for (const [name, value] of Object.entries(task.data || {})) {
    fields.append(el('dt', {}, name), el('dd', {}, renderValue(value)));
  }
  return el('li', { class: 'task', 'data-task': task.id }, el('header', {}, title, meta), fields);
}

function renderValue(value) {
  const url = imageUrl(value);
  if (url) return mediaFigure(url, value);
  return el('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

// An image to show: a media URL of this server, or an http(s) URL of an image file.
function imageUrl(value) {
  if (typeof value !== 'string' || !/^(?:\/|https?:\/\/)/i.test(value)) return null;
  let url;
  try {
    url = new URL(value, location.href);
  } catch {
    return null;
  }
  if (MEDIA_PATH.test(url.pathname)) return url;
  return /^https?:$/.test(url.protocol) && IMAGE_EXTENSION.test(url.pathname) ? url : null;
}

// ---- Media --------------------------------------------------------------------------------

// A plain <img> first: a signed URL (or an open one) loads by itself. When it fails and the
// URL is one of this server's media routes, the page fetches it with the token and shows the
// bytes as a blob: URL. The token only ever goes to this page's own origin.
function mediaFigure(url, text) {
  const img = el('img', { alt: text, loading: 'lazy', decoding: 'async' });
  const link = el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, text);
  const figure = el('figure', { class: 'media' }, img, el('figcaption', {}, link));
  img.addEventListener('error', () => onImageError(img, url, figure));
  img.src = url.href;
  return figure;
}

function onImageError(img, url, figure) {
  if (MEDIA_PATH.test(url.pathname) && !img.dataset.withToken) {
    img.dataset.withToken = 'true';
    loadWithToken(img, url, figure);
  } else {
    markBroken(figure, 'not an image, or not reachable');
  }
}

async function loadWithToken(img, url, figure) {
  const own = new URL(url.pathname + url.search, location.origin);
  try {
    const response = await fetch(own, {
      headers: { Authorization: `Token ${token()}` },
      signal: state.media.abort.signal,
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const objectUrl = URL.createObjectURL(await response.blob());
    state.media.urls.push(objectUrl);
    img.src = objectUrl;
  } catch (error) {
    if (error.name !== 'AbortError') markBroken(figure, error.message);
  }
}

function markBroken(figure, reason) {
  figure.classList.add('broken');
  figure.querySelector('img')?.remove();
  figure.prepend(el('p', { class: 'muted' }, `media not shown: ${reason}`));
}

// Pages of media come and go: stop their downloads and free their blobs.
function releaseMedia() {
  state.media.abort.abort();
  for (const url of state.media.urls) URL.revokeObjectURL(url);
  state.media = { urls: [], abort: new AbortController() };
}

// ---- Wiring -------------------------------------------------------------------------------

function useToken(event) {
  event.preventDefault();
  localStorage.setItem(TOKEN_KEY, $('token').value.trim());
  showMessage('Token saved in this browser.', 'info');
  state.projectsPage = 1;
  loadProjects().then(restoreProject);
}

function forgetToken() {
  localStorage.removeItem(TOKEN_KEY);
  $('token').value = '';
  location.hash = '';
  location.reload();
}

function wireTaskPager() {
  $('tasks-first').addEventListener('click', () => goToTaskPage(1));
  $('tasks-prev').addEventListener('click', () => goToTaskPage(state.tasks.page - 1));
  $('tasks-next').addEventListener('click', () => goToTaskPage(state.tasks.page + 1));
  $('tasks-refresh').addEventListener('click', () => loadTasks());
  $('tasks-page-size').addEventListener('change', (event) => {
    state.tasks.size = Number(event.target.value);
    resetTasks(1);
  });
  $('tasks-jump').addEventListener('submit', (event) => {
    event.preventDefault();
    const page = Number($('tasks-jump-page').value);
    if (page >= 1) goToTaskPage(page);
  });
}

function init() {
  $('token-form').addEventListener('submit', useToken);
  $('forget-token').addEventListener('click', forgetToken);
  $('projects-prev').addEventListener('click', () => goToProjectsPage(state.projectsPage - 1));
  $('projects-next').addEventListener('click', () => goToProjectsPage(state.projectsPage + 1));
  wireTaskPager();
  $('token').value = token();
  if (token()) loadProjects().then(restoreProject);
  else showMessage('Paste the API token to start (.labelsync/api_token).', 'info');
}

init();
