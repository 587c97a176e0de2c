// The Neo4j Browser guide for exploring a room (`:play http://localhost:7476/guide.html`): a short explanation of the
// graph, a colour legend matching browser/style.json, and every analyst query of cypher/queries as a runnable block.
// Pure: it turns query files and a few facts about the database into HTML; browser/guide-server.mjs does the I/O.
// The query blocks are built from the files each time, so the guide never drifts from the shipped queries.

/** Which queries go on which slide; a query file not named here lands on a last "More queries" slide. */
export const SLIDES = [
  {
    title: 'Draw the DAG',
    intro: 'Arrows point from an event to its <code>prev_events</code>: from newer to older. Follow them to go back '
      + 'in time. The force layout does not place older events lower, so read the direction from the arrows and '
      + 'keep the window small (<code>$count</code>): 20-40 events stay readable.',
    queries: ['newest-events', 'path-between-events'],
  },
  {
    title: 'Who is in the room',
    intro: 'Tables: run them and switch between the table and text views in the result frame.',
    queries: ['rooms', 'events-per-server', 'events-per-sender', 'joined-servers'],
  },
  {
    title: 'The shape of the DAG',
    intro: 'Forward extremities are the tips the current state is resolved from; forks are where servers sent at once; '
      + 'merges are where a later event names several <code>prev_events</code>.',
    queries: ['forward-extremities', 'forks-and-merges', 'forks', 'depth-histogram'],
  },
  {
    title: 'Gaps, rejections and redactions',
    intro: 'A <span style="color:#5F6670;font-weight:bold">missing event</span> (white) is named in '
      + '<code>prev_events</code> or <code>auth_events</code> but not imported; the events below it wait '
      + '(state pending). Rejected events (red) failed the authorization rules. A redacted event (thick black '
      + 'border, captioned <code>[redacted]</code>) is served pruned: an <code>m.room.redaction</code> that applies '
      + 'names it (<code>[:REDACTS]</code>).',
    queries: ['missing-events', 'rejected-events', 'redactions'],
  },
  {
    title: 'Room state',
    intro: 'The state before an event is what the authorization rules checked it against.',
    queries: ['state-at-event', 'state-key-timeline'],
  },
  {
    title: 'What get_missing_events returns',
    intro: 'The walk the endpoint makes, as a table, for the parameters set on the first slide.',
    queries: ['get-missing-events'],
  },
];

/** The legend: one row per kind label, in the colours of browser/style.json. */
export const KINDS = [
  ['Create', '#FFC454', '#1F2328', '<code>m.room.create</code>'],
  ['Membership', '#8DCC93', '#1F2328', '<code>m.room.member</code>'],
  ['PowerLevels', '#F79767', '#1F2328', '<code>m.room.power_levels</code>'],
  ['StateEvent', '#4C8EDA', '#FFFFFF', 'any other state event (join rules, history visibility, name, topic...)'],
  ['Message', '#E4E9F0', '#1F2328', 'not a state event'],
  ['Rejected', '#B3261E', '#FFFFFF', 'failed the authorization rules: walked through, never returned'],
  ['SoftFailed', '#C990C0', '#1F2328', 'a tip that fails against the current state'],
  ['Placeholder', '#FFFFFF', '#5F6670', 'named but not imported: "missing event"'],
];

/**
 * One cypher/queries file: its title (the "Analyst query:" line), description, what it returns, the example
 * parameters of its header (`//   :param name => value`) and the statement without comments.
 */
export function parseQueryFile(name, text) {
  const lines = text.split('\n');
  const comments = [];
  const statement = [];
  for (const line of lines) {
    if (statement.length === 0 && line.startsWith('//')) comments.push(line.replace(/^\/\/ ?/, ''));
    else if (line.trim() !== '' || statement.length > 0) statement.push(line);
  }
  const title = (comments[0] ?? name).replace(/^Analyst query:\s*/, '').replace(/\.$/, '');
  const params = [];
  const prose = [];
  let section = 'description';
  for (const line of comments.slice(1)) {
    const param = /^\s*:param\s+(\w+)\s*=>\s*(.+)$/.exec(line);
    if (param) {
      params.push({ name: param[1], example: param[2].trim() });
      continue;
    }
    if (/^Returns:/.test(line)) section = 'returns';
    else if (/^Parameters:/.test(line)) section = 'parameters';
    if (section === 'description') prose.push(line.trim());
  }
  // "Returns: ... Parameters: ..." may share one line.
  const returns = comments.slice(1).join(' ').match(/Returns:\s*(.*?)(?:\s*Parameters:|$)/)?.[1]?.replace(/\s+/g, ' ').trim() ?? '';
  return { name, title, description: prose.join(' ').trim(), returns, params, statement: statement.join('\n').trimEnd() };
}

const escapeHtml = (text) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** A Cypher literal for a string or a list of strings. */
export function cypherLiteral(value) {
  if (Array.isArray(value)) return `[${value.map(cypherLiteral).join(', ')}]`;
  if (typeof value === 'number') return String(value);
  return `'${String(value).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * The `:param` commands setting every parameter the queries use: `facts` (Cypher literals taken from the database:
 * the largest room) where there are some, else the example of the query header (null for an event: the query then
 * takes one of the room's). One `:param`
 * a line with `=>`, because Browser keeps integers only that way (`:params {count: 30}` would make 30.0, which
 * LIMIT refuses); the semicolons let Browser run the lines as one multi-statement block.
 */
export function paramsCommand(queries, facts) {
  const values = new Map();
  for (const query of queries) {
    for (const { name, example } of query.params) if (!values.has(name)) values.set(name, facts[name] ?? example);
  }
  const entries = [...values.entries()].sort(([a], [b]) => (a === 'room_id' ? -1 : b === 'room_id' ? 1 : a.localeCompare(b)));
  return entries.map(([name, value]) => `:param ${name} => ${value};`).join('\n');
}

function querySection(query) {
  const uses = query.params.map(({ name }) => `<code>$${name}</code>`).join(', ');
  return `<h4>${escapeHtml(query.title)}</h4>
<p>${escapeHtml(query.description)}${query.returns ? ` <em>Returns: ${escapeHtml(query.returns)}.</em>` : ''}${uses ? ` Uses ${uses}.` : ''}
<br><small><code>cypher/queries/${escapeHtml(query.name)}.cypher</code></small></p>
<pre class="code runnable" data-query="${escapeHtml(query.name)}">${escapeHtml(query.statement)}</pre>`;
}

/** One runnable `:param room_id => ...` block a room, to switch to it once the parameters are set. */
function otherRoomsList(rooms) {
  if (rooms.length === 0) return '';
  const items = rooms.map(({ room_id: roomId, room_version: version, events }) => `<li>${events} events, room version `
    + `${escapeHtml(String(version))}:<pre class="code runnable" data-query="room">${escapeHtml(`:param room_id => ${cypherLiteral(roomId)}`)}</pre></li>`);
  return `<p>Other rooms, the largest first: run one of these instead to switch to it.</p>\n<ul>\n${items.join('\n')}\n</ul>\n`;
}

function legend() {
  const rows = KINDS.map(([label, color, text, meaning]) => `<tr><td><span style="display:inline-block;min-width:110px;`
    + `padding:2px 8px;border-radius:10px;border:1px solid #5F6670;background:${color};color:${text}">:${label}</span></td>`
    + `<td>${meaning}</td></tr>`).join('\n');
  return `<table class="table-condensed">\n${rows}\n</table>`;
}

/**
 * The guide's HTML. `facts` maps parameter names to Cypher literals read from the database (none when it is
 * empty); `roomNote` says which room they come from; `styleUrl` is where browser/style.json is served.
 */
export function guideHtml({ queries, facts = {}, roomNote, otherRooms = [], styleUrl }) {
  const byName = new Map(queries.map((query) => [query.name, query]));
  const placed = new Set(SLIDES.flatMap((slide) => slide.queries));
  const slides = [...SLIDES, { title: 'More queries', intro: '', queries: queries.map((q) => q.name).filter((n) => !placed.has(n)) }]
    .map((slide) => ({ ...slide, queries: slide.queries.filter((name) => byName.has(name)).map((name) => byName.get(name)) }))
    .filter((slide) => slide.queries.length > 0);
  const first = `<slide class="row-fluid">
<div class="col-sm-12">
<h3>A Matrix room as a graph</h3>
<p>Each event is an <code>:Event</code> node with <code>event_id</code>, <code>type</code>, <code>state_key</code>,
<code>sender</code>, <code>depth</code>, <code>origin_server_ts</code> and the PDU as imported (<code>pdu</code>).
<code>(:Event)-[:PREV_EVENT]-&gt;(:Event)</code> is the DAG, from newer to older: each event points at its
<code>prev_events</code>; <code>[:AUTH_EVENT]</code> (light grey) points at its <code>auth_events</code>.
Each node is captioned with its type and sender and coloured by its kind label:</p>
${legend()}
<p>A thick purple border marks an event whose state is not known yet (<code>:StatePending</code>, below a gap);
a thick black border and the caption <code>[redacted]</code> an event a redaction applies to (<code>:Redacted</code>:
get_missing_events sends it pruned, as Synapse does).
<code>(:Room)</code> and <code>(:State)</code> nodes hold the room and its states. Click a node to see all its
properties.</p>
<h4>1. Choose the room</h4>
<p>${escapeHtml(roomNote)} Click the block to put it in the editor, then run it (Ctrl+Enter); change
<code>room_id</code> to explore another room (the <code>rooms</code> query lists them): the event parameters are
<code>null</code>, so each query takes the events it needs from that room (its newest event, a few
<code>prev_events</code> back from it...). Set one to an event ID to look at that event; a query handed an event of
another room says so in a row instead of answering for that room.</p>
<pre class="code runnable" data-query="params">${escapeHtml(paramsCommand(queries, facts))}</pre>
${otherRoomsList(otherRooms)}<p>The colours and captions come from <a data-exec="style ${escapeHtml(styleUrl)}">:style ${escapeHtml(styleUrl)}</a>,
applied when the Browser connects; <a data-exec="style reset">:style reset</a> goes back to Browser's own.
Next: the arrow on the right, or the left and right keys.</p>
</div>
</slide>`;
  const rest = slides.map((slide, index) => `<slide class="row-fluid">
<div class="col-sm-12">
<h3>${index + 2}. ${escapeHtml(slide.title)}</h3>
${slide.intro ? `<p>${slide.intro}</p>` : ''}
${slide.queries.map(querySection).join('\n')}
</div>
</slide>`);
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Explore a Matrix room</title></head>
<body>
<article class="guide">
<carousel class="deck container-fluid">
${[first, ...rest].join('\n')}
</carousel>
</article>
</body></html>
`;
}
