"""Append-only, named schema migrations.

Each migration runs in one transaction together with the row that records it
in ``schema_migrations``, so a crash leaves either both or neither. Never edit
or reorder a released migration: add a new one.
"""

from __future__ import annotations

from collections.abc import Sequence

from companion.core.errors import SchemaTooNewError
from companion.core.store.db import Database, now, to_iso

FACE_DIM = 128     # dlib ResNet face descriptor
IMAGE_DIM = 512    # CLIP ViT-B-32 joint embedding
TEXT_DIM = 384     # all-MiniLM-L6-v2 sentence embedding

M0001_PHOTOS_AND_FACES = f"""
CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    taken_at TEXT,
    ts REAL,
    taken_at_source TEXT NOT NULL DEFAULT 'file',
    latitude REAL,
    longitude REAL,
    city TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    thumbnail TEXT,
    status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'pending', 'error')),
    error TEXT,
    indexed_at TEXT NOT NULL
);
CREATE INDEX photos_hash ON photos(content_hash);
CREATE INDEX photos_ts ON photos(ts);

CREATE TABLE face_clusters (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE faces (
    id INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    box_left INTEGER NOT NULL, box_top INTEGER NOT NULL,
    box_right INTEGER NOT NULL, box_bottom INTEGER NOT NULL,
    score REAL NOT NULL DEFAULT 1.0,
    cluster_id INTEGER REFERENCES face_clusters(id) ON DELETE SET NULL,
    -- 'user' assignments are never undone by automatic clustering
    cluster_source TEXT NOT NULL DEFAULT 'auto' CHECK (cluster_source IN ('auto', 'user'))
);
CREATE INDEX faces_photo ON faces(photo_id);
CREATE INDEX faces_cluster ON faces(cluster_id);

CREATE VIRTUAL TABLE vec_faces USING vec0(
    face_id INTEGER PRIMARY KEY,
    embedding float[{FACE_DIM}] distance_metric=cosine
);
CREATE VIRTUAL TABLE vec_images USING vec0(
    photo_id INTEGER PRIMARY KEY,
    embedding float[{IMAGE_DIM}] distance_metric=cosine
);
CREATE TRIGGER faces_vec_cleanup AFTER DELETE ON faces BEGIN
    DELETE FROM vec_faces WHERE face_id = old.id;
END;
CREATE TRIGGER photos_vec_cleanup AFTER DELETE ON photos BEGIN
    DELETE FROM vec_images WHERE photo_id = old.id;
END;
"""

M0002_CONCEPTS_AND_OBSERVATIONS = f"""
CREATE TABLE concepts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('person', 'pet', 'object', 'place')),
    info TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX concepts_name ON concepts(name COLLATE NOCASE);

-- A face group the user named belongs to that concept.
ALTER TABLE face_clusters ADD COLUMN concept_id INTEGER REFERENCES concepts(id) ON DELETE CASCADE;

CREATE TABLE concept_refs (
    id INTEGER PRIMARY KEY,
    concept_id INTEGER NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('face', 'image')),
    image_path TEXT,
    box_left INTEGER, box_top INTEGER, box_right INTEGER, box_bottom INTEGER,
    face_id INTEGER REFERENCES faces(id) ON DELETE CASCADE,
    photo_id INTEGER REFERENCES photos(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX concept_refs_concept ON concept_refs(concept_id);
CREATE UNIQUE INDEX concept_refs_face ON concept_refs(face_id) WHERE face_id IS NOT NULL;

CREATE VIRTUAL TABLE vec_ref_faces USING vec0(
    ref_id INTEGER PRIMARY KEY,
    embedding float[{FACE_DIM}] distance_metric=cosine
);
CREATE VIRTUAL TABLE vec_ref_images USING vec0(
    ref_id INTEGER PRIMARY KEY,
    embedding float[{IMAGE_DIM}] distance_metric=cosine
);
CREATE TRIGGER concept_refs_vec_cleanup AFTER DELETE ON concept_refs BEGIN
    DELETE FROM vec_ref_faces WHERE ref_id = old.id;
    DELETE FROM vec_ref_images WHERE ref_id = old.id;
END;

CREATE TABLE observations (
    id INTEGER PRIMARY KEY,
    concept_id INTEGER NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
    photo_id INTEGER REFERENCES photos(id) ON DELETE CASCADE,
    turn_id INTEGER,
    time TEXT,
    ts REAL,
    place TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('face', 'clip', 'user', 'conversation')),
    kind TEXT NOT NULL CHECK (kind IN ('sighting', 'mention')),
    confidence REAL NOT NULL DEFAULT 1.0,
    action TEXT NOT NULL DEFAULT ''
);
CREATE INDEX observations_concept_ts ON observations(concept_id, ts);
CREATE UNIQUE INDEX observations_photo ON observations(concept_id, photo_id, source) WHERE photo_id IS NOT NULL;
"""

M0003_CONVERSATIONS_AND_MEMORIES = f"""
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    started_ts REAL NOT NULL,
    ended_ts REAL NOT NULL,
    consolidated INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE turns (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    time TEXT NOT NULL,
    ts REAL NOT NULL,
    images TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX turns_conversation ON turns(conversation_id, ts);
CREATE INDEX turns_ts ON turns(ts);
CREATE VIRTUAL TABLE turns_fts USING fts5(text, content='turns', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN
    INSERT INTO turns_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
    DELETE FROM observations WHERE turn_id = old.id;
END;
CREATE TRIGGER turns_fts_update AFTER UPDATE OF text ON turns BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO turns_fts(rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE memories (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('semantic', 'episodic', 'procedural', 'core')),
    content TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '',
    time TEXT,
    ts REAL,
    place TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL DEFAULT '',
    session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX memories_kind_ts ON memories(kind, ts);
CREATE TABLE memory_concepts (
    memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    concept_id INTEGER NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
    PRIMARY KEY (memory_id, concept_id)
);
CREATE INDEX memory_concepts_concept ON memory_concepts(concept_id);
CREATE TABLE memory_turns (
    memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    PRIMARY KEY (memory_id, turn_id)
);
CREATE VIRTUAL TABLE memories_fts USING fts5(content, keywords, content='memories', content_rowid='id',
                                             tokenize='porter unicode61');
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content, keywords) VALUES (new.id, new.content, new.keywords);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, keywords) VALUES ('delete', old.id, old.content, old.keywords);
    DELETE FROM vec_memories WHERE memory_id = old.id;
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF content, keywords ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, keywords) VALUES ('delete', old.id, old.content, old.keywords);
    INSERT INTO memories_fts(rowid, content, keywords) VALUES (new.id, new.content, new.keywords);
END;
CREATE VIRTUAL TABLE vec_memories USING vec0(
    memory_id INTEGER PRIMARY KEY,
    embedding float[{TEXT_DIM}] distance_metric=cosine
);
"""

M0004_TRIGGERS_AND_PERSONA = """
CREATE TABLE triggers (
    id INTEGER PRIMARY KEY,
    concept_id INTEGER NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
    instruction TEXT NOT NULL,
    keyword TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    source_turn_id INTEGER REFERENCES turns(id) ON DELETE SET NULL,
    active INTEGER NOT NULL DEFAULT 1,
    fired_count INTEGER NOT NULL DEFAULT 0,
    last_fired_at TEXT
);
CREATE INDEX triggers_concept ON triggers(concept_id);

CREATE TABLE persona (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    openness REAL NOT NULL DEFAULT 3,
    conscientiousness REAL NOT NULL DEFAULT 3,
    extraversion REAL NOT NULL DEFAULT 3,
    agreeableness REAL NOT NULL DEFAULT 3,
    neuroticism REAL NOT NULL DEFAULT 3,
    interactions INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT
);
INSERT INTO persona (id) VALUES (1);
CREATE TABLE persona_history (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    openness REAL NOT NULL,
    conscientiousness REAL NOT NULL,
    extraversion REAL NOT NULL,
    agreeableness REAL NOT NULL,
    neuroticism REAL NOT NULL,
    turn_id INTEGER REFERENCES turns(id) ON DELETE SET NULL
);
"""

# Every change to a vector table, in commit order, so in-memory indexes (store/vectors.py)
# can follow the database: writes log through vectors.put/remove, cascading deletes here.
M0005_VECTOR_CHANGES = """
CREATE TABLE vector_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    item INTEGER NOT NULL
);
CREATE TABLE vector_log_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_upto INTEGER NOT NULL DEFAULT 0
);
INSERT INTO vector_log_state (id) VALUES (1);
CREATE TRIGGER faces_vec_log AFTER DELETE ON faces BEGIN
    INSERT INTO vector_changes (tbl, item) VALUES ('vec_faces', old.id);
END;
CREATE TRIGGER photos_vec_log AFTER DELETE ON photos BEGIN
    INSERT INTO vector_changes (tbl, item) VALUES ('vec_images', old.id);
END;
CREATE TRIGGER concept_refs_vec_log AFTER DELETE ON concept_refs BEGIN
    INSERT INTO vector_changes (tbl, item)
        VALUES (CASE old.kind WHEN 'face' THEN 'vec_ref_faces' ELSE 'vec_ref_images' END, old.id);
END;
CREATE TRIGGER memories_vec_log AFTER DELETE ON memories BEGIN
    INSERT INTO vector_changes (tbl, item) VALUES ('vec_memories', old.id);
END;
-- "What was I doing the last time I told you about X": the concept's conversation observations.
CREATE INDEX observations_conversation ON observations(concept_id, ts) WHERE source = 'conversation';
"""

# Questions about a time window or a place ("who did I see in June?", "when was I last in Rome?") query
# sightings, photos and memories by time and by city: the city is the first part of a place label
# ("Vienna, Vienna, Austria" -> "vienna"; SQLite's lower() folds ASCII only). Indexed as an expression,
# not a generated column, so that no SELECT * pays for computing it; store/places.py city_sql() writes
# the same expression into the queries (the index is used only where they match exactly).
_CITY = "lower(trim(CASE WHEN instr(place, ',') > 0 THEN substr(place, 1, instr(place, ',') - 1) ELSE place END))"
M0006_TIME_AND_PLACE_QUERIES = f"""
-- With concept_id: "who was there" (a GROUP BY concept_id) reads the index alone.
CREATE INDEX observations_kind_ts ON observations(kind, ts, concept_id);
CREATE INDEX observations_city_ts ON observations({_CITY}, kind, ts, concept_id);
CREATE INDEX memories_ts ON memories(ts);
CREATE INDEX memories_city_ts ON memories({_CITY}, ts);
-- Partial indexes on the photos a question counts (status 'ok'): a count over a city's 2,000 photos
-- reads the index alone instead of every row (3 ms -> 0.1 ms at 100k photos, benchmarks/scale.py).
CREATE INDEX photos_ok_ts ON photos(ts) WHERE status = 'ok';
CREATE INDEX photos_city_ts ON photos(city COLLATE NOCASE, ts) WHERE status = 'ok';
CREATE INDEX photos_country_ts ON photos(country_code, ts) WHERE status = 'ok';
"""

# Faces you can trust (issue 23): a face's quality (size and sharpness, backends/face_quality.py: below
# Settings.face_min_quality it is neither grouped nor assigned automatically), and suggestions: a face close to
# one person but not clearly (between face_match_distance and face_suggest_distance, or without the margin to
# the next person) is offered to the user ("Is this Matt?") instead of becoming a sighting. 'rejected' keeps a
# "no" from being asked again.
M0007_FACE_QUALITY_AND_SUGGESTIONS = """
ALTER TABLE faces ADD COLUMN quality REAL NOT NULL DEFAULT 1.0;
CREATE TABLE face_suggestions (
    face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    concept_id INTEGER NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
    distance REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'rejected')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (face_id, concept_id)
);
CREATE INDEX face_suggestions_open ON face_suggestions(status, concept_id);
"""

# Who said a turn (a multi-party import: "Caroline"; "" is the user), and whom a memory is about and who
# said it: answers about someone must come from what is about them (issue 22, LoCoMo).
M0008_ATTRIBUTION = """
ALTER TABLE turns ADD COLUMN speaker TEXT NOT NULL DEFAULT '';
ALTER TABLE memories ADD COLUMN speaker TEXT NOT NULL DEFAULT '';
ALTER TABLE memories ADD COLUMN subject TEXT NOT NULL DEFAULT '';
"""

# Real photo libraries (issue 23): places by every level, one photo per content, near-duplicates.
M0009_PHOTO_LIBRARY = """
-- The district a position falls in ("Länsisatama"); the city column names the city ("Helsinki").
ALTER TABLE photos ADD COLUMN district TEXT NOT NULL DEFAULT '';
-- Which naming rules wrote the place: rows named before districts are named again (indexing._refresh_places).
ALTER TABLE photos ADD COLUMN place_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX photos_district_ts ON photos(district COLLATE NOCASE, ts) WHERE status = 'ok';
CREATE INDEX photos_region_ts ON photos(region COLLATE NOCASE, ts) WHERE status = 'ok';
-- One photo per content: the other paths holding the same bytes (an album copy, a backup).
CREATE TABLE photo_paths (
    path TEXT PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL
);
CREATE INDEX photo_paths_photo ON photo_paths(photo_id);
-- Existing copies become paths of the first photo with their bytes; a copy whose face is a person's
-- reference key stays a photo of its own (deleting it would take the key with it).
INSERT INTO photo_paths (path, photo_id, size, mtime)
    SELECT d.path, (SELECT min(k.id) FROM photos k WHERE k.content_hash = d.content_hash AND k.status = 'ok'),
           d.size, d.mtime
    FROM photos d
    WHERE d.status = 'ok' AND d.content_hash != ''
      AND d.id > (SELECT min(k.id) FROM photos k WHERE k.content_hash = d.content_hash AND k.status = 'ok')
      AND NOT EXISTS (SELECT 1 FROM faces f JOIN concept_refs r ON r.face_id = f.id WHERE f.photo_id = d.id);
DELETE FROM photos WHERE path IN (SELECT path FROM photo_paths);
-- Near-duplicates (resized or re-encoded copies, bursts): a 64-bit difference hash of the pixels, and the
-- photo whose group this one joined (questions count a group once).
ALTER TABLE photos ADD COLUMN dhash INTEGER;
ALTER TABLE photos ADD COLUMN dup_of INTEGER REFERENCES photos(id) ON DELETE SET NULL;
CREATE INDEX photos_dup_of ON photos(dup_of) WHERE dup_of IS NOT NULL;
"""

# Conversation imports that resume and never repeat (core/memory/importer.py, store/imports.py): a source is
# one file's content (its BLAKE2b hash) in one format; ``position`` counts the messages committed, in the
# source's order, together with the turns and memories learnt from them, so an interrupted import resumes
# after them and a finished one adds nothing. Formats whose exports carry their own message ids (ChatGPT,
# Claude, a JSONL line's "id") record them in ``import_items``, so a later, larger export of the same chats
# adds only the new messages. A forgotten turn keeps its item (turn_id NULL): importing again does not
# bring it back. ``photos.failures`` counts the scans in a row a file failed with the same size and mtime:
# indexing tries such a file again on the next scans, up to a cap, or when asked. Two indexes make a long
# import linear.
M0010_IMPORT_SOURCES = """
CREATE TABLE import_sources (
    id INTEGER PRIMARY KEY,
    format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    items INTEGER NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    turns INTEGER NOT NULL DEFAULT 0,
    memories INTEGER NOT NULL DEFAULT 0,
    context TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'importing' CHECK (status IN ('importing', 'done')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    UNIQUE (format, content_hash)
);
CREATE TABLE import_items (
    format TEXT NOT NULL,
    external_id TEXT NOT NULL,
    source_id INTEGER NOT NULL REFERENCES import_sources(id) ON DELETE CASCADE,
    turn_id INTEGER REFERENCES turns(id) ON DELETE SET NULL,
    PRIMARY KEY (format, external_id)
) WITHOUT ROWID;
CREATE INDEX import_items_turn ON import_items(turn_id) WHERE turn_id IS NOT NULL;
ALTER TABLE photos ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
-- Storing a turn looks up the latest session, and consolidating a session reads its turns: without these
-- each was a scan, and a long import quadratic (20k lines: 75 s of 87 in those two queries).
CREATE INDEX sessions_ended ON sessions(ended_ts);
CREATE INDEX turns_session ON turns(session_id, ts);
"""

# Files inside the profile are stored relative to their folder (store/files.py), so a copied or moved
# profile is self-contained: a reference photo copy "<data>/concept_images/concept-<id>-<digest>.jpg"
# becomes "concept-<id>-<digest>.jpg" (the rtrim() idiom keeps what follows the last "/"), a thumbnail
# "<cache>/thumbnails/<h[:2]>/<h>.jpg" becomes "<h[:2]>/<h>.jpg". Any other path (a photo elsewhere) stays.
# Files are deleted only after the transaction that drops them commits (pending_deletions, swept on open),
# and a reminder learnt from imported text waits for the user's confirmation (triggers.pending).
_SLASHED = "replace(image_path, '\\', '/')"
M0011_PROFILE_FILES_AND_PENDING = f"""
UPDATE concept_refs
SET image_path = substr({_SLASHED}, length(rtrim({_SLASHED}, replace({_SLASHED}, '/', ''))) + 1)
WHERE image_path IS NOT NULL AND {_SLASHED} LIKE '%/concept_images/concept-' || concept_id || '-%';
UPDATE photos SET thumbnail = substr(content_hash, 1, 2) || '/' || content_hash || '.jpg'
WHERE thumbnail IS NOT NULL AND content_hash != ''
  AND replace(thumbnail, '\\', '/') LIKE '%/thumbnails/' || substr(content_hash, 1, 2) || '/' || content_hash || '.jpg';
CREATE TABLE pending_deletions (
    id INTEGER PRIMARY KEY,
    root TEXT NOT NULL CHECK (root IN ('concept_images', 'thumbnails')),
    path TEXT NOT NULL
);
ALTER TABLE triggers ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
"""

# Chat exports (issue 24): an export holds many conversations; each is its own import source, and
# ``thread`` is the export's own id of that conversation, so a newer export's new messages join the
# conversation the older one made. Memories brought from another app (ChatGPT's custom instructions)
# say where they came from (``memories.origin``: "chatgpt"), and ``import_memories`` records each by its
# key in the export, so importing again (after the user edited or forgot it) does not bring it back.
M0012_CHAT_EXPORTS = """
ALTER TABLE import_sources ADD COLUMN thread TEXT NOT NULL DEFAULT '';
CREATE INDEX import_sources_thread ON import_sources(format, thread) WHERE thread != '';
ALTER TABLE memories ADD COLUMN origin TEXT NOT NULL DEFAULT '';
CREATE TABLE import_memories (
    format TEXT NOT NULL,
    external_id TEXT NOT NULL,
    memory_id INTEGER REFERENCES memories(id) ON DELETE SET NULL,
    PRIMARY KEY (format, external_id)
) WITHOUT ROWID;
"""

# What the user's other AI apps asked Companion over MCP (companion/mcp/): one row per call, which the user
# reads and clears in Settings ▸ Privacy and with `companion mcp activity`. Only the request is kept (the
# tool, its arguments in short, who asked, the outcome), never what was answered.
M0013_ACTIVITY = """
CREATE TABLE activity (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '',
    tool TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    results INTEGER NOT NULL DEFAULT 0
);
"""

# (name, SQL). Append only.
MIGRATIONS: Sequence[tuple[str, str]] = (
    ("0001_photos_and_faces", M0001_PHOTOS_AND_FACES),
    ("0002_concepts_and_observations", M0002_CONCEPTS_AND_OBSERVATIONS),
    ("0003_conversations_and_memories", M0003_CONVERSATIONS_AND_MEMORIES),
    ("0004_triggers_and_persona", M0004_TRIGGERS_AND_PERSONA),
    ("0005_vector_changes", M0005_VECTOR_CHANGES),
    ("0006_time_and_place_queries", M0006_TIME_AND_PLACE_QUERIES),
    ("0007_face_quality_and_suggestions", M0007_FACE_QUALITY_AND_SUGGESTIONS),
    ("0008_attribution", M0008_ATTRIBUTION),
    ("0009_photo_library", M0009_PHOTO_LIBRARY),
    ("0010_import_sources", M0010_IMPORT_SOURCES),
    ("0011_profile_files_and_pending", M0011_PROFILE_FILES_AND_PENDING),
    ("0012_chat_exports", M0012_CHAT_EXPORTS),
    ("0013_activity", M0013_ACTIVITY),
)


def _statements(script: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if _complete(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _complete(buffer: str) -> bool:
    import sqlean

    return buffer.strip().endswith(";") and sqlean.complete_statement(buffer)


def applied(db: Database) -> list[str]:
    # Looked up first: opening an up-to-date store only reads (writes wait for its integrity check).
    if db.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") is None:
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    return [row["name"] for row in db.query("SELECT name FROM schema_migrations ORDER BY name")]


def migrate(db: Database, upto: str | None = None) -> list[str]:
    """Apply pending migrations (up to and including ``upto``); return the names applied.

    Refuses a database that has migrations this version does not know, since
    writing to it could destroy data a newer Companion relies on.
    """
    done = set(applied(db))
    known = [name for name, _ in MIGRATIONS]
    unknown = sorted(done - set(known))
    if unknown:
        raise SchemaTooNewError(
            f"the memory store at {db.path} was written by a newer Companion (it has migration "
            f"{unknown[-1]}); upgrade Companion to open it"
        )
    newly = []
    for name, script in MIGRATIONS:
        if name not in done and _apply(db, name, script):
            newly.append(name)
        if name == upto:
            break
    return newly


def _apply(db: Database, name: str, script: str) -> bool:
    """Run one migration and record it, atomically; False if another process got there first."""
    with db.transaction() as conn:
        # Another process may have applied it while we waited for the write lock.
        if conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
            return False
        for statement in _statements(script):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, to_iso(now())))
    return True
