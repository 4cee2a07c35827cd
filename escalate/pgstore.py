"""The team store: the same log on PostgreSQL (psycopg 3), for a safeguarding team sharing one store.

It is :class:`escalate.store.Store` with the database changed underneath: the same entries, bytes,
hashes, disclosures and caches, the same tables, the same methods. What differs is said here:

* **One chain under many writers.** An append is one call of the server's ``escalate_append``, which
  checks who records and where, and that the challenge's last entry is the one the entry was made
  after, then takes a transaction-level advisory lock (:data:`APPEND_LOCK`), so appends from every desk
  are serialised inside the database, each chaining to the head as it is when the lock is granted; the
  commit is durable (``synchronous_commit`` on for it) and the lock is held to it. Only the chain's own
  steps are done holding the lock. Several entries saved together take the lock first, in
  ``BEGIN IMMEDIATE``.
* **People record through that function alone.** It runs as the tables' owner; people's logins have no
  INSERT on the log, and the author's login and setting are the database's, never the client's.
* **Append-only, enforced by the server.** Triggers abort any UPDATE, DELETE or TRUNCATE of the log's
  tables whoever runs it (the table owner included); a cached fold is replaced only for a later entry.
* **The SQL.** The store's statements are SQLite's; :class:`_Connection` runs them on PostgreSQL,
  changing the few words the two spell differently (placeholders, ``INSERT OR IGNORE``, the advisory
  lock for ``BEGIN IMMEDIATE``). The methods whose SQL has no common spelling (SQLite's JSON
  functions, pragmas, the file's own checks) are written here again.
* **A second process on a connection of its own.** verify's worker opens the store again by its URL
  (:meth:`Store.location`), as the SQLite store's opens its file.

A database holds one store. :func:`create` makes its tables (``escalate team init``); opening a
database without them says so rather than making them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from escalate import entry
from escalate.errors import ChallengeError, StoreError
from escalate.paths import is_store_url
from escalate.store import DAMAGE_HINT, Fold, Store, StoredEntry, WholeFold

if TYPE_CHECKING:
    import psycopg

S = TypeVar("S")

#: the schema of a team store's tables (escalate's own version of them, kept in meta)
TEAM_SCHEMA_VERSION = 1
#: the advisory lock every append takes first (any constant: one per database)
APPEND_LOCK = 0x65736361  # "esca"


TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    seq BIGINT PRIMARY KEY,
    challenge TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    body BYTEA NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (challenge, cseq)
);
CREATE TABLE disclosures (digest TEXT PRIMARY KEY, seq BIGINT NOT NULL, bytes BYTEA NOT NULL);
CREATE INDEX disclosures_seq_digest ON disclosures (seq, digest);
CREATE TABLE challenges (id TEXT PRIMARY KEY, opened_seq BIGINT NOT NULL);
CREATE TABLE state_cache (challenge TEXT PRIMARY KEY, cseq INTEGER NOT NULL, state TEXT NOT NULL,
    listing_key TEXT, listing TEXT);
CREATE TABLE glances (challenge TEXT PRIMARY KEY, cseq INTEGER NOT NULL, key TEXT NOT NULL, glance TEXT NOT NULL);
CREATE FUNCTION escalate_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'escalate: % is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END $$;
CREATE FUNCTION escalate_later_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.cseq > OLD.cseq OR (NEW.cseq = OLD.cseq AND NEW.state = OLD.state)) THEN
        RETURN NEW;  -- a fold for a later entry, or a list row kept beside the same fold
    END IF;
    RAISE EXCEPTION 'escalate: a cached state is replaced for a later entry, never edited or deleted';
END $$;
CREATE FUNCTION escalate_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.cseq >= OLD.cseq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'escalate: a glance is replaced for a later entry, never deleted';
END $$;
"""

#: roles: the tables' owner (nobody logs in as it), and a group per kind of person
OWNER = "escalate_owner"
GROUPS = {"dsl": "escalate_dsl", "lead": "escalate_lead", "auditor": "escalate_auditor"}

#: people, who sees what, and who may record what: the database's, not a settings file
TEAM = r"""
ALTER TABLE entries ADD COLUMN setting TEXT, ADD COLUMN author_login TEXT;
ALTER TABLE challenges ADD COLUMN setting TEXT;
CREATE TABLE people (
    login TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    setting TEXT NOT NULL,
    grp TEXT NOT NULL CHECK (grp IN ('dsl', 'lead', 'auditor')),
    sees TEXT[] NOT NULL DEFAULT '{}',
    added_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    removed_at TIMESTAMPTZ
);
CREATE FUNCTION escalate_person_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL
       AND (NEW.login, NEW.name, NEW.role, NEW.setting, NEW.grp) = (OLD.login, OLD.name, OLD.role, OLD.setting, OLD.grp)
    THEN
        RETURN NEW;  -- a person leaves; nothing else of their record changes
    END IF;
    RAISE EXCEPTION 'escalate: a person''s record is kept as it was (% refused)', TG_OP;
END $$;
CREATE TRIGGER people_kept BEFORE UPDATE OR DELETE ON people FOR EACH ROW EXECUTE FUNCTION escalate_person_kept();

-- the person of this session (none for an administrator, or a removed person)
CREATE FUNCTION escalate_me() RETURNS people LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT * FROM people WHERE login = session_user AND removed_at IS NULL
$$;
CREATE FUNCTION escalate_sees(s TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS $$
    SELECT CASE p.grp WHEN 'lead' THEN true
                      WHEN 'auditor' THEN cardinality(p.sees) = 0 OR s = ANY(p.sees)
                      ELSE s = p.setting END
    FROM people p WHERE p.login = session_user AND p.removed_at IS NULL
$$;
CREATE FUNCTION escalate_records(s TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS $$
    SELECT p.grp = 'lead' OR (p.grp = 'dsl' AND s = p.setting)
    FROM people p WHERE p.login = session_user AND p.removed_at IS NULL
$$;
CREATE FUNCTION escalate_sees_challenge(c TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS $$
    SELECT escalate_sees(setting) FROM challenges WHERE id = c
$$;
-- the store's head and number of challenges, whoever asks: an append chains to the whole log, of
-- which a person may see only part (a number and a hash say nothing of any entry)
CREATE FUNCTION escalate_head() RETURNS TABLE (seq BIGINT, hash TEXT) LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS $$
    SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1
$$;
CREATE FUNCTION escalate_challenge_count() RETURNS BIGINT LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS $$
    SELECT count(*) FROM challenges
$$;
-- every entry of the chain by number, digest of its bytes and hash: what a person who may see only
-- some challenges needs to follow the chain through the others (the link lines of an export)
CREATE FUNCTION escalate_links(after BIGINT) RETURNS TABLE (seq BIGINT, inner_hash TEXT, hash TEXT)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT seq, encode(sha256(body), 'hex'), hash FROM entries WHERE seq > after ORDER BY seq
$$;

-- one append, in one call and one round trip: the lock, the head, the challenge's last entry (which
-- must still be the one the client read: else it reads again), the entry's bytes and hashes, its
-- disclosures and, for an opening, the index. Run as the person (not a definer): the policies and the
-- triggers below see them. The client has checked the entry against the challenge and made its
-- content; it makes the same bytes itself and compares the hash it gets back.
CREATE FUNCTION escalate_append(p_challenge TEXT, p_after INTEGER, p_kind TEXT, p_occurred TEXT, p_recorded TEXT,
    p_content BYTEA, p_digests TEXT[], p_disclosures BYTEA[])
    RETURNS TABLE (seq BIGINT, hash TEXT, prev TEXT, cprev TEXT) LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
    h_seq BIGINT;
    h_hash TEXT;
    c_last INTEGER;
    c_hash TEXT;
    n BIGINT;
    next_id TEXT;
    body BYTEA;
    digest TEXT;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);  -- durable at commit, whatever the session says
    PERFORM pg_advisory_xact_lock(1702060897);
    SELECT h.seq, h.hash INTO h_seq, h_hash FROM escalate_head() h;
    IF h_seq IS NULL THEN
        h_seq := 0;
        h_hash := repeat('0', 64);
    END IF;
    IF p_after = 0 THEN  -- an opening, under the id the client read as the next
        n := escalate_challenge_count() + 1;
        next_id := 'C-' || CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END;
        IF p_challenge IS DISTINCT FROM next_id THEN
            RAISE EXCEPTION 'escalate: another challenge was opened meanwhile' USING ERRCODE = 'serialization_failure';
        END IF;
        c_last := 0;
        c_hash := repeat('0', 64);
    ELSE
        SELECT e.cseq, e.hash INTO c_last, c_hash FROM entries e WHERE e.challenge = p_challenge
            ORDER BY e.cseq DESC LIMIT 1;
        IF c_last IS DISTINCT FROM p_after THEN
            RAISE EXCEPTION 'escalate: the challenge moved on meanwhile' USING ERRCODE = 'serialization_failure';
        END IF;
    END IF;
    body := convert_to(format('E2 %s %s %s %s %s %s', h_seq + 1, p_challenge, c_last + 1, p_kind, h_hash, c_hash)
        || chr(10), 'UTF8') || p_content;
    digest := encode(sha256(convert_to(format('E2 %s %s %s', h_seq + 1, h_hash, encode(sha256(body), 'hex')),
        'UTF8')), 'hex');
    INSERT INTO entries VALUES (h_seq + 1, p_challenge, c_last + 1, p_kind, p_occurred, p_recorded, body, digest);
    INSERT INTO disclosures SELECT d, h_seq + 1, b FROM unnest(p_digests, p_disclosures) AS t (d, b)
        ON CONFLICT DO NOTHING;
    IF p_after = 0 THEN
        INSERT INTO challenges VALUES (p_challenge, h_seq + 1);
    END IF;
    RETURN QUERY SELECT h_seq + 1, digest, h_hash, c_hash;
END $$;

-- the caches of a challenge the person may see, kept only when current (made at its last entry) and
-- never older than what is there: people's logins have no UPDATE on any table, so caches are kept here
-- (one who is nobody's person, an administrator, may keep any: only they and the groups may call these)
CREATE FUNCTION escalate_keep_fold(c TEXT, n INTEGER, s TEXT) RETURNS VOID LANGUAGE sql SECURITY DEFINER
    SET search_path = public AS $$
    INSERT INTO state_cache SELECT c, n, s, NULL, NULL
        WHERE coalesce(escalate_sees_challenge(c), true) AND (SELECT max(cseq) FROM entries WHERE challenge = c) = n
    ON CONFLICT (challenge) DO UPDATE SET cseq = excluded.cseq, state = excluded.state, listing_key = NULL,
        listing = NULL WHERE state_cache.cseq < excluded.cseq
$$;
CREATE FUNCTION escalate_keep_listing(c TEXT, n INTEGER, s TEXT, k TEXT, row_text TEXT, glance TEXT) RETURNS VOID
    LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    INSERT INTO state_cache SELECT c, n, s, k, row_text
        WHERE coalesce(escalate_sees_challenge(c), true) AND (SELECT max(cseq) FROM entries WHERE challenge = c) = n
    ON CONFLICT (challenge) DO UPDATE SET cseq = excluded.cseq, state = excluded.state,
        listing_key = excluded.listing_key, listing = excluded.listing WHERE state_cache.cseq <= excluded.cseq;
    INSERT INTO glances SELECT c, n, k, glance
        WHERE coalesce(escalate_sees_challenge(c), true) AND (SELECT max(cseq) FROM entries WHERE challenge = c) = n
    ON CONFLICT (challenge) DO UPDATE SET cseq = excluded.cseq, key = excluded.key, glance = excluded.glance
        WHERE glances.cseq < excluded.cseq;
$$;

-- each entry is the session's person's: its login is the session's, its setting the challenge's (an
-- opening's, the person's), and the author it states is that person (the name is checked at commit)
CREATE FUNCTION escalate_entry_author() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public AS $$
DECLARE
    me people;
    stated JSONB;
BEGIN
    NEW.author_login := session_user;
    stated := convert_from(substring(NEW.body FROM position('\x0a'::bytea IN NEW.body) + 1), 'UTF8')::jsonb
        -> 'author';
    IF NEW.cseq = 1 THEN
        NEW.setting := stated ->> 'setting';
    ELSE
        NEW.setting := (SELECT setting FROM challenges WHERE id = NEW.challenge);
    END IF;
    SELECT * INTO me FROM people WHERE login = session_user AND removed_at IS NULL;
    IF me.login IS NULL THEN
        IF EXISTS (SELECT 1 FROM people WHERE login = session_user) THEN
            RAISE EXCEPTION 'escalate: % was removed from this team store', session_user;
        END IF;
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
           AND NOT pg_has_role(session_user, 'escalate_owner', 'MEMBER') THEN
            RAISE EXCEPTION 'escalate: % is not a person of this team store', session_user;
        END IF;
        RETURN NEW;  -- an administrator (store copy): the entry states its own author
    END IF;
    IF stated ->> 'role' IS DISTINCT FROM me.role OR stated ->> 'setting' IS DISTINCT FROM me.setting THEN
        RAISE EXCEPTION 'escalate: the entry names another role or setting than %''s', session_user;
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION escalate_entry_name() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public AS $$
DECLARE
    me people;
    sealed TEXT;
    disclosed TEXT;
BEGIN
    SELECT * INTO me FROM people WHERE login = NEW.author_login;
    IF me.login IS NULL THEN
        RETURN NULL;
    END IF;
    sealed := convert_from(substring(NEW.body FROM position('\x0a'::bytea IN NEW.body) + 1), 'UTF8')::jsonb
        -> 'author' -> 'name' ->> '_sd';
    SELECT convert_from(bytes, 'UTF8')::jsonb ->> 1 INTO disclosed FROM disclosures WHERE digest = sealed;
    IF disclosed IS DISTINCT FROM me.name THEN
        RAISE EXCEPTION 'escalate: entry % names another author than % (%)', NEW.seq, me.name, NEW.author_login;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION escalate_challenge_setting() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public AS $$
BEGIN
    NEW.setting := (SELECT setting FROM entries WHERE seq = NEW.opened_seq);
    RETURN NEW;
END $$;
CREATE TRIGGER entries_author BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION escalate_entry_author();
CREATE CONSTRAINT TRIGGER entries_name AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION escalate_entry_name();
CREATE TRIGGER challenges_setting BEFORE INSERT ON challenges FOR EACH ROW
    EXECUTE FUNCTION escalate_challenge_setting();

ALTER TABLE entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE disclosures ENABLE ROW LEVEL SECURITY;
ALTER TABLE challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE state_cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE glances ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON entries FOR SELECT USING (escalate_sees(setting));
CREATE POLICY record ON entries FOR INSERT WITH CHECK (escalate_records(setting));
CREATE POLICY read ON challenges FOR SELECT USING (escalate_sees(setting));
CREATE POLICY record ON challenges FOR INSERT WITH CHECK (escalate_records(setting));
CREATE POLICY read ON disclosures FOR SELECT USING (EXISTS (SELECT 1 FROM entries e WHERE e.seq = disclosures.seq));
CREATE POLICY record ON disclosures FOR INSERT WITH CHECK (
    escalate_records((SELECT setting FROM entries e WHERE e.seq = disclosures.seq)));
CREATE POLICY cache ON state_cache USING (escalate_sees_challenge(challenge))
    WITH CHECK (escalate_sees_challenge(challenge));
CREATE POLICY cache ON glances USING (escalate_sees_challenge(challenge))
    WITH CHECK (escalate_sees_challenge(challenge));

-- INSERT and SELECT, and nothing else: nothing is ever updated, deleted or truncated by a person's login
-- (the caches are kept through escalate_keep_fold and escalate_keep_listing, as their owner)
GRANT SELECT ON entries, disclosures, challenges, meta, people, state_cache, glances
    TO escalate_dsl, escalate_lead, escalate_auditor;
GRANT INSERT ON entries, disclosures, challenges, meta TO escalate_dsl, escalate_lead;
REVOKE EXECUTE ON FUNCTION escalate_keep_fold(TEXT, INTEGER, TEXT) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION escalate_keep_listing(TEXT, INTEGER, TEXT, TEXT, TEXT, TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION escalate_keep_fold(TEXT, INTEGER, TEXT) TO escalate_dsl, escalate_lead;
GRANT EXECUTE ON FUNCTION escalate_keep_listing(TEXT, INTEGER, TEXT, TEXT, TEXT, TEXT) TO escalate_dsl, escalate_lead;
"""

#: full-text search over what the store holds in clear (entries' text, disclosed personal values): a
#: table the server fills as entries and disclosures arrive, read by whoever sees the challenge
SEARCH = r"""
CREATE TABLE search_text (
    seq BIGINT PRIMARY KEY,
    challenge TEXT NOT NULL,
    words TEXT NOT NULL,
    -- (punctuation made spaces first: the parser reads REF-2002 as 'ref' and '-2002', and escalate's
    -- words are letters and digits, as SQLite's tokenizer reads them)
    doc tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', translate(words, '-_/.:,;()[]{}"''+#@&', '                   '))) STORED
);
CREATE INDEX search_text_doc ON search_text USING GIN (doc);
-- the text values of an entry's data and author, as escalate.entry.words_of reads them (bytes that are
-- not an entry give none: indexing never refuses an entry the log accepts)
CREATE OR REPLACE FUNCTION escalate_entry_words(body BYTEA) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE j jsonb;
BEGIN
    j := convert_from(substring(body FROM position('\x0a'::bytea IN body) + 1), 'UTF8')::jsonb;
    RETURN coalesce((
        SELECT string_agg(v #>> '{}', ' ')
        FROM jsonb_path_query(
            jsonb_build_array((j -> 'data') - 'procedure_text' - 'procedure_path' - 'procedure_fingerprint'
                              - 'procedure_version' - 'due' - 'new_due' - 'decision_at' - 'protective_by',
                              (j -> 'author') - 'os_user'),
            'strict $.**') v
        WHERE jsonb_typeof(v) = 'string' AND v #>> '{}' !~ '^[0-9a-f]{64}$'), '');
EXCEPTION WHEN invalid_text_representation OR character_not_in_repertoire OR untranslatable_character
          OR invalid_parameter_value THEN
    RETURN '';
END $$;
CREATE OR REPLACE FUNCTION escalate_disclosed_value(bytes BYTEA) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN coalesce(convert_from(bytes, 'UTF8')::jsonb ->> 1, '');
EXCEPTION WHEN invalid_text_representation OR character_not_in_repertoire OR untranslatable_character THEN
    RETURN '';
END $$;
CREATE OR REPLACE FUNCTION escalate_searched_disclosure(s BIGINT, d TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE
    SET search_path = public AS $$
    SELECT NOT EXISTS (SELECT 1 FROM entries e WHERE e.seq = s
        AND (position(convert_to('"procedure_path":{"_sd":"' || d, 'UTF8') IN e.body) > 0
             OR position(convert_to('"os_user":{"_sd":"' || d, 'UTF8') IN e.body) > 0))
$$;
ALTER TABLE search_text ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON search_text FOR SELECT USING (escalate_sees_challenge(challenge));
GRANT SELECT ON search_text TO escalate_dsl, escalate_lead, escalate_auditor;
"""


#: each person's signing keys (escalate.checkpoint): set by an administrator, never changed or removed, so
#: what an old key signed stays checkable against the key the person had then
KEYS = r"""
CREATE TABLE person_keys (
    login TEXT NOT NULL REFERENCES people (login),
    public_key TEXT NOT NULL CHECK (public_key ~ '^ssh-ed25519 [A-Za-z0-9+/=]+$'),
    added_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (login, public_key)
);
CREATE TRIGGER person_keys_guard BEFORE UPDATE OR DELETE ON person_keys
    FOR EACH ROW EXECUTE FUNCTION escalate_append_only();
CREATE TRIGGER person_keys_no_truncate BEFORE TRUNCATE ON person_keys
    FOR EACH STATEMENT EXECUTE FUNCTION escalate_append_only();
GRANT SELECT ON person_keys TO escalate_dsl, escalate_lead, escalate_auditor;
"""


#: the second version of the store's functions, for speed (an older store gets them at `team upgrade`):
#: * who sees what is worked out once per query: a policy calling a definer function per row
#:   (escalate_sees) cost a lead's read of 1,000,000 entries 16 s; a scalar subquery is run once and
#:   its answer kept;
#: * the functions every append and read calls are PL/pgSQL, whose plans a session keeps (a definer
#:   function in SQL is planned again at every call: 0.26 ms against 0.13 ms to read a challenge's head);
#: * the search table is caught up with the log when someone searches, as a desk's index is, rather
#:   than by triggers on every append (which cost an append 0.15 of its 0.5 ms of the server's CPU).
FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION escalate_sees_all() RETURNS BOOLEAN LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public AS $$
BEGIN
    RETURN coalesce((SELECT p.grp = 'lead' OR (p.grp = 'auditor' AND cardinality(p.sees) = 0)
        FROM people p WHERE p.login = session_user AND p.removed_at IS NULL), false);
END $$;
CREATE OR REPLACE FUNCTION escalate_seen() RETURNS TEXT[] LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public AS $$
BEGIN
    RETURN coalesce((SELECT CASE p.grp WHEN 'dsl' THEN ARRAY[p.setting] WHEN 'auditor' THEN p.sees
                                       ELSE '{}'::TEXT[] END
        FROM people p WHERE p.login = session_user AND p.removed_at IS NULL), '{}'::TEXT[]);
END $$;
CREATE OR REPLACE FUNCTION escalate_sees(s TEXT) RETURNS BOOLEAN LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public AS $$
BEGIN
    RETURN (SELECT CASE p.grp WHEN 'lead' THEN true
                              WHEN 'auditor' THEN cardinality(p.sees) = 0 OR s = ANY(p.sees)
                              ELSE s = p.setting END
        FROM people p WHERE p.login = session_user AND p.removed_at IS NULL);
END $$;
CREATE OR REPLACE FUNCTION escalate_records(s TEXT) RETURNS BOOLEAN LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public AS $$
BEGIN
    RETURN (SELECT p.grp = 'lead' OR (p.grp = 'dsl' AND s = p.setting)
        FROM people p WHERE p.login = session_user AND p.removed_at IS NULL);
END $$;
CREATE OR REPLACE FUNCTION escalate_sees_challenge(c TEXT) RETURNS BOOLEAN LANGUAGE plpgsql STABLE
    SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN (SELECT escalate_sees(setting) FROM challenges WHERE id = c);
END $$;
CREATE OR REPLACE FUNCTION escalate_head() RETURNS TABLE (seq BIGINT, hash TEXT) LANGUAGE plpgsql STABLE
    SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY SELECT e.seq, e.hash FROM entries e ORDER BY e.seq DESC LIMIT 1;
END $$;
CREATE OR REPLACE FUNCTION escalate_challenge_count() RETURNS BIGINT LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public AS $$
BEGIN
    RETURN (SELECT count(*) FROM challenges);
END $$;
CREATE OR REPLACE FUNCTION escalate_keep_fold(c TEXT, n INTEGER, s TEXT) RETURNS VOID LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public AS $$
BEGIN
    INSERT INTO state_cache SELECT c, n, s, NULL, NULL
        WHERE coalesce(escalate_sees_challenge(c), true) AND (SELECT max(cseq) FROM entries WHERE challenge = c) = n
    ON CONFLICT (challenge) DO UPDATE SET cseq = excluded.cseq, state = excluded.state, listing_key = NULL,
        listing = NULL WHERE state_cache.cseq < excluded.cseq;
END $$;
CREATE OR REPLACE FUNCTION escalate_keep_listing(c TEXT, n INTEGER, s TEXT, k TEXT, row_text TEXT, glance TEXT)
    RETURNS VOID LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF NOT coalesce(escalate_sees_challenge(c), true)
       OR (SELECT max(cseq) FROM entries WHERE challenge = c) IS DISTINCT FROM n THEN
        RETURN;
    END IF;
    INSERT INTO state_cache VALUES (c, n, s, k, row_text)
    ON CONFLICT (challenge) DO UPDATE SET cseq = excluded.cseq, state = excluded.state,
        listing_key = excluded.listing_key, listing = excluded.listing WHERE state_cache.cseq <= excluded.cseq;
    INSERT INTO glances VALUES (c, n, k, glance)
    ON CONFLICT (challenge) DO UPDATE SET cseq = excluded.cseq, key = excluded.key, glance = excluded.glance
        WHERE glances.cseq < excluded.cseq;
END $$;
DROP POLICY IF EXISTS read ON entries;
CREATE POLICY read ON entries FOR SELECT
    USING ((SELECT escalate_sees_all()) OR setting = ANY ((SELECT escalate_seen())::TEXT[]));
DROP POLICY IF EXISTS read ON challenges;
CREATE POLICY read ON challenges FOR SELECT
    USING ((SELECT escalate_sees_all()) OR setting = ANY ((SELECT escalate_seen())::TEXT[]));
DROP POLICY IF EXISTS read ON disclosures;
CREATE POLICY read ON disclosures FOR SELECT
    USING ((SELECT escalate_sees_all()) OR EXISTS (SELECT 1 FROM entries e WHERE e.seq = disclosures.seq));
DROP POLICY IF EXISTS cache ON state_cache;
CREATE POLICY cache ON state_cache
    USING ((SELECT escalate_sees_all()) OR EXISTS (SELECT 1 FROM challenges c WHERE c.id = state_cache.challenge))
    WITH CHECK ((SELECT escalate_sees_all()) OR EXISTS (SELECT 1 FROM challenges c WHERE c.id = state_cache.challenge));
DROP POLICY IF EXISTS cache ON glances;
CREATE POLICY cache ON glances
    USING ((SELECT escalate_sees_all()) OR EXISTS (SELECT 1 FROM challenges c WHERE c.id = glances.challenge))
    WITH CHECK ((SELECT escalate_sees_all()) OR EXISTS (SELECT 1 FROM challenges c WHERE c.id = glances.challenge));
DROP POLICY IF EXISTS read ON search_text;
CREATE POLICY read ON search_text FOR SELECT
    USING ((SELECT escalate_sees_all()) OR EXISTS (SELECT 1 FROM challenges c WHERE c.id = search_text.challenge));
DROP TRIGGER IF EXISTS entries_search ON entries;
DROP TRIGGER IF EXISTS disclosures_search ON disclosures;
DROP FUNCTION IF EXISTS escalate_index_entry();
DROP FUNCTION IF EXISTS escalate_index_disclosure();
-- every entry not yet in the search table, with the names and case references it disclosed (one
-- catcher-up at a time; entries are committed in the order of their numbers, under the append lock,
-- so an entry past the table's last is one not yet indexed)
CREATE OR REPLACE FUNCTION escalate_index_new() RETURNS VOID LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public AS $$
DECLARE
    last BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(1702060898);
    last := coalesce((SELECT max(seq) FROM search_text), 0);
    INSERT INTO search_text (seq, challenge, words)
        SELECT e.seq, e.challenge, escalate_entry_words(e.body) || coalesce(
            (SELECT ' ' || string_agg(escalate_disclosed_value(d.bytes), ' ') FROM disclosures d
             WHERE d.seq = e.seq AND escalate_searched_disclosure(d.seq, d.digest)), '')
        FROM entries e WHERE e.seq > last;
END $$;
REVOKE EXECUTE ON FUNCTION escalate_index_new() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION escalate_index_new() TO escalate_dsl, escalate_lead, escalate_auditor;
INSERT INTO meta VALUES ('functions', '2') ON CONFLICT DO NOTHING;

-- whether the session is the server's administrator or the tables' owner's: one who may write the log
-- directly (store copy), stating each entry's author
CREATE OR REPLACE FUNCTION escalate_administrator() RETURNS BOOLEAN LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public AS $$
BEGIN
    RETURN coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user), false)
        OR pg_has_role(session_user, 'escalate_owner', 'MEMBER');
END $$;
-- a challenge's id by its number, as escalate names them
CREATE OR REPLACE FUNCTION escalate_challenge_id(n BIGINT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT 'C-' || CASE WHEN n < 10000 THEN lpad(n::TEXT, 4, '0') ELSE n::TEXT END
$$;
-- (the third version) an append checks who records, and where, before it takes the append lock, which
-- is held to the durable commit: only the chain's own steps wait on other desks. People's logins record
-- through escalate_append alone (it runs as the tables' owner), never by INSERT.
CREATE OR REPLACE FUNCTION escalate_append(p_challenge TEXT, p_after INTEGER, p_kind TEXT, p_occurred TEXT,
    p_recorded TEXT, p_content BYTEA, p_digests TEXT[], p_disclosures BYTEA[])
    RETURNS TABLE (seq BIGINT, hash TEXT, prev TEXT, cprev TEXT) LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public AS $$
DECLARE
    me people;
    stated JSONB;
    v_setting TEXT;
    sealed TEXT;
    named TEXT;
    n BIGINT;
    h_seq BIGINT;
    h_hash TEXT;
    c_last INTEGER;
    c_hash TEXT;
    body BYTEA;
    digest TEXT;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);  -- durable at commit, whatever the session says
    stated := convert_from(p_content, 'UTF8')::jsonb -> 'author';
    IF p_after = 0 THEN
        v_setting := stated ->> 'setting';  -- an opening is at its author's setting
    ELSE
        SELECT c.setting INTO v_setting FROM challenges c WHERE c.id = p_challenge;
        IF NOT FOUND THEN  -- (the desk reads it again, and says there is none)
            RAISE EXCEPTION 'escalate: no challenge %', p_challenge USING ERRCODE = 'serialization_failure';
        END IF;
    END IF;
    SELECT * INTO me FROM people p WHERE p.login = session_user AND p.removed_at IS NULL;
    IF me.login IS NULL THEN
        IF EXISTS (SELECT 1 FROM people p WHERE p.login = session_user) THEN
            RAISE EXCEPTION 'escalate: % was removed from this team store', session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT escalate_administrator() THEN
            RAISE EXCEPTION 'escalate: % is not a person of this team store', session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- an administrator: the entry states its own author
    ELSE
        IF stated ->> 'role' IS DISTINCT FROM me.role OR stated ->> 'setting' IS DISTINCT FROM me.setting THEN
            RAISE EXCEPTION 'escalate: the entry names another role or setting than %''s', session_user;
        END IF;
        IF (me.grp = 'lead' OR (me.grp = 'dsl' AND v_setting = me.setting)) IS NOT TRUE THEN
            RAISE EXCEPTION 'escalate: % may not record in %', session_user, v_setting
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        sealed := stated -> 'name' ->> '_sd';
        named := coalesce(
            (SELECT convert_from(t.b, 'UTF8')::jsonb ->> 1 FROM unnest(p_digests, p_disclosures) AS t (d, b)
             WHERE t.d = sealed LIMIT 1),
            (SELECT convert_from(d.bytes, 'UTF8')::jsonb ->> 1 FROM disclosures d WHERE d.digest = sealed));
        IF named IS DISTINCT FROM me.name THEN
            RAISE EXCEPTION 'escalate: the entry names another author than % (%)', me.name, session_user;
        END IF;
    END IF;
    -- the challenge's last entry, read before the lock: an entry never changes, and one made after it
    -- meanwhile takes the number this one would (the insert below finds it, and refuses)
    IF p_after = 0 THEN
        c_last := 0;
        c_hash := repeat('0', 64);
    ELSE
        SELECT e.cseq, e.hash INTO c_last, c_hash FROM entries e WHERE e.challenge = p_challenge
            ORDER BY e.cseq DESC LIMIT 1;
        IF c_last IS DISTINCT FROM p_after THEN
            RAISE EXCEPTION 'escalate: the challenge moved on meanwhile' USING ERRCODE = 'serialization_failure';
        END IF;
    END IF;
    PERFORM pg_advisory_xact_lock(1702060897);
    IF p_after = 0 THEN  -- an opening, under the id the desk read as the next: C-n, with C-(n-1) there
        n := (CASE WHEN p_challenge ~ '^C-[0-9]{1,18}$' THEN substring(p_challenge FROM 3)::BIGINT END);
        IF n IS NULL OR p_challenge IS DISTINCT FROM escalate_challenge_id(n)
           OR EXISTS (SELECT 1 FROM challenges c WHERE c.id = p_challenge)
           OR (n > 1 AND NOT EXISTS (SELECT 1 FROM challenges c WHERE c.id = escalate_challenge_id(n - 1))) THEN
            RAISE EXCEPTION 'escalate: another challenge was opened meanwhile' USING ERRCODE = 'serialization_failure';
        END IF;
    END IF;
    SELECT e.seq, e.hash INTO h_seq, h_hash FROM entries e ORDER BY e.seq DESC LIMIT 1;
    IF h_seq IS NULL THEN
        h_seq := 0;
        h_hash := repeat('0', 64);
    END IF;
    body := convert_to(format('E2 %s %s %s %s %s %s', h_seq + 1, p_challenge, c_last + 1, p_kind, h_hash, c_hash)
        || chr(10), 'UTF8') || p_content;
    digest := encode(sha256(convert_to(format('E2 %s %s %s', h_seq + 1, h_hash, encode(sha256(body), 'hex')),
        'UTF8')), 'hex');
    INSERT INTO entries VALUES (h_seq + 1, p_challenge, c_last + 1, p_kind, p_occurred, p_recorded, body, digest,
        v_setting, session_user) ON CONFLICT (challenge, cseq) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'escalate: the challenge moved on meanwhile' USING ERRCODE = 'serialization_failure';
    END IF;
    INSERT INTO disclosures SELECT t.d, h_seq + 1, t.b FROM unnest(p_digests, p_disclosures) AS t (d, b)
        ON CONFLICT DO NOTHING;
    IF p_after = 0 THEN
        INSERT INTO challenges VALUES (p_challenge, h_seq + 1, v_setting);
    END IF;
    RETURN QUERY SELECT h_seq + 1, digest, h_hash, c_hash;
END $$;
REVOKE EXECUTE ON FUNCTION escalate_append(TEXT, INTEGER, TEXT, TEXT, TEXT, BYTEA, TEXT[], BYTEA[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION escalate_append(TEXT, INTEGER, TEXT, TEXT, TEXT, BYTEA, TEXT[], BYTEA[])
    TO escalate_dsl, escalate_lead;
REVOKE INSERT ON entries, disclosures, challenges FROM escalate_dsl, escalate_lead, escalate_auditor;
-- an entry inserted otherwise than by escalate_append: an administrator's (store copy), which states its
-- own author; its setting worked out as escalate_append does (an administrator who is also one of the
-- people comes here through escalate_append too). A person's login never gets here (it has no INSERT
-- on the log): were it given one, its rows would be refused here all the same.
CREATE OR REPLACE FUNCTION escalate_inserted_setting(p_challenge TEXT, p_cseq INTEGER, p_body BYTEA) RETURNS TEXT
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF NOT escalate_administrator() THEN  -- (an administrator may also be one of the people)
        IF EXISTS (SELECT 1 FROM people p WHERE p.login = session_user) THEN
            RAISE EXCEPTION 'escalate: % records through escalate_append only', session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RAISE EXCEPTION 'escalate: % is not a person of this team store', session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_cseq = 1 THEN
        RETURN convert_from(substring(p_body FROM position('\x0a'::bytea IN p_body) + 1), 'UTF8')::jsonb
            -> 'author' ->> 'setting';
    END IF;
    RETURN (SELECT c.setting FROM challenges c WHERE c.id = p_challenge);
END $$;
-- (an invoker's trigger: current_user is whoever inserts, escalate_owner inside escalate_append, which
-- no person's login can become; a person's own login, or a group it took with SET ROLE, is one it can)
CREATE OR REPLACE FUNCTION escalate_entry_author() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
    IF NEW.author_login = session_user AND NOT pg_has_role(session_user, current_user, 'MEMBER') THEN
        RETURN NEW;  -- made by escalate_append, which checked the person first
    END IF;
    NEW.author_login := session_user;
    NEW.setting := escalate_inserted_setting(NEW.challenge, NEW.cseq, NEW.body);
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS entries_name ON entries;
DROP FUNCTION IF EXISTS escalate_entry_name();
INSERT INTO meta VALUES ('functions-3', 'appends checked before the append lock') ON CONFLICT DO NOTHING;
"""

#: (table, what its trigger allows): every table of the log refuses change; caches only move forward
_GUARDS = [
    ("entries", "escalate_append_only"),
    ("disclosures", "escalate_append_only"),
    ("challenges", "escalate_append_only"),
    ("meta", "escalate_append_only"),
    ("state_cache", "escalate_later_only"),
    ("glances", "escalate_forward_only"),
]


#: whether a store location names a PostgreSQL database rather than a file
is_url = is_store_url


def shown_url(url: str) -> str:
    """A URL as messages show it: no password, ever."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "local socket"
    except ValueError:  # (a host in brackets that is not one)
        return "team store at a URL that cannot be read"
    database = parts.path.lstrip("/") or "(default database)"
    return f"team store {database} on {host}"


def _connect(url: str) -> psycopg.Connection[Any]:
    import psycopg  # lazy: only a team store needs it (40 ms)

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        raise StoreError(
            f"cannot connect to the {shown_url(url)}: {first}",
            hint="Check the URL (--store or ESCALATE_STORE), that the server runs, and your login.",
        ) from None
    except psycopg.ProgrammingError as exc:  # a URL libpq cannot read (its message quotes the URL: cut)
        why = _first_line(exc).split(" in URI")[0]
        raise StoreError(f"the store URL cannot be read: {why}", hint="Expected postgresql://HOST/DATABASE.") from None


def create(url: str) -> None:
    """Make a team store in an empty database, as an administrator (a role that may create roles and
    tables): its tables, owned by a role nobody logs in as; the groups of people; who sees and records
    what (row-level security); and the triggers that keep the log append-only."""
    import psycopg
    from psycopg import sql

    conn = _connect(url)
    try:
        with conn.transaction():
            if conn.execute("SELECT to_regclass('entries')").fetchone() not in (None, (None,)):
                raise StoreError(f"the {shown_url(url)} already holds an escalate store (or an entries table)")
            for role in (OWNER, *GROUPS.values()):  # (roles belong to the server: another store may have made them)
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                    conn.execute(f"CREATE ROLE {role} NOLOGIN")
            conn.execute(TABLES)
            for table, function in _GUARDS:
                conn.execute(
                    f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {function}()"
                )
                conn.execute(
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION escalate_append_only()"
                )
            conn.execute(TEAM)
            conn.execute(SEARCH)
            conn.execute(KEYS)
            conn.execute(FUNCTIONS)
            # only the team's groups may connect: a person removed from them signs in no more
            database = sql.Identifier(str(conn.execute("SELECT current_database()").fetchall()[0][0]))
            conn.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(database))
            for group in (OWNER, *GROUPS.values()):
                conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, sql.Identifier(group)))
            for table in ("meta", "entries", "disclosures", "challenges", "state_cache", "glances", "people"):
                conn.execute(f"ALTER TABLE {table} OWNER TO {OWNER}")
            _own_search(conn)
            # (the secret that salts disclosures is kept by the first append, or brought by `store copy`)
            conn.execute(
                "INSERT INTO meta VALUES ('schema', %s), ('store_id', %s)",
                (str(TEAM_SCHEMA_VERSION), secrets.token_hex(8)),
            )
    except psycopg.Error as exc:
        raise StoreError(f"cannot make the store's tables in the {shown_url(url)}: {_first_line(exc)}") from None
    finally:
        conn.close()


def _own_search(conn: psycopg.Connection[Any]) -> None:
    """The search table and every escalate function belong to the owner role (definer functions run
    as it)."""
    conn.execute(f"ALTER TABLE search_text OWNER TO {OWNER}")
    if conn.execute("SELECT to_regclass('person_keys')").fetchone() not in (None, (None,)):
        conn.execute(f"ALTER TABLE person_keys OWNER TO {OWNER}")
    for (function,) in conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.proname LIKE 'escalate%'"
    ).fetchall():
        conn.execute(f"ALTER FUNCTION {function} OWNER TO {OWNER}")


def upgrade(url: str) -> list[str]:
    """Add what a newer escalate needs to a team store made by an older one, as an administrator: what
    was added, in words (none if the store had everything)."""
    import psycopg

    conn = _admin(url)
    try:
        with conn.transaction():
            added = []
            if conn.execute("SELECT to_regclass('search_text')").fetchone() in (None, (None,)):
                conn.execute(SEARCH)
                added.append("search, indexed from its log")
            if conn.execute("SELECT to_regclass('person_keys')").fetchone() in (None, (None,)):
                conn.execute(KEYS)
                added.append("people's signing keys")
            if conn.execute("SELECT 1 FROM meta WHERE key = 'functions'").fetchone() is None:
                added.append(
                    "faster functions (who sees what worked out once per query; appends that do not wait "
                    "for the search table, which is caught up when someone searches)"
                )
            if conn.execute("SELECT 1 FROM meta WHERE key = 'functions-3'").fetchone() is None:
                added.append(
                    "appends checked before the append lock (people's logins record through escalate_append "
                    "alone, no longer by INSERT)"
                )
            if not added:
                return []
            conn.execute(FUNCTIONS)  # (after SEARCH too: its table's policy is the newer one)
            _own_search(conn)
            conn.execute("SELECT escalate_index_new()")  # (as its owner, now: the first search need not wait)
    except psycopg.Error as exc:
        raise StoreError(f"cannot upgrade the store in the {shown_url(url)}: {_first_line(exc)}") from None
    finally:
        conn.close()
    return added


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- SQLite's statements on PostgreSQL -----------------------------------------------------------

_PLACEHOLDER = re.compile(r"\?")


#: statements a person who sees only some challenges must have answered for the whole log
_WHOLE = {
    "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1": "SELECT seq, hash FROM escalate_head()",
    "SELECT count(*) FROM challenges": "SELECT escalate_challenge_count()",
}


def _dialect(sql: str) -> str:
    """One of the store's SQLite statements as PostgreSQL spells it."""
    if sql in _WHOLE:
        return _WHOLE[sql]
    out = _PLACEHOLDER.sub("%s", sql)
    if out.startswith("INSERT OR IGNORE INTO "):
        out = "INSERT INTO " + out[len("INSERT OR IGNORE INTO ") :] + " ON CONFLICT DO NOTHING"
    elif out.startswith("INSERT OR REPLACE INTO meta "):
        out = "INSERT INTO meta " + out[len("INSERT OR REPLACE INTO meta ") :]
        out += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    return out


class _Connection:
    """A psycopg connection answering the store's SQLite statements (see :func:`_dialect`), each
    database error raised as a StoreError naming the team store."""

    def __init__(self, url: str, where: str, readonly: bool) -> None:
        self.url = url
        self.where = where
        self.readonly = readonly
        self._sql: dict[str, str] = {}
        self.pg = self._open()

    def _open(self) -> psycopg.Connection[Any]:
        import psycopg

        conn = _connect(self.url)
        try:
            # The log's writes are durable at commit (escalate_append and BEGIN IMMEDIATE say so for their
            # transaction); the rest, the caches, need not wait for the disk: lost, they are worked out again.
            conn.execute("SET synchronous_commit TO off")
            if self.readonly:
                conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"the {self.where} could not be opened: {_first_line(exc)}") from None
        return conn

    def live(self) -> psycopg.Connection[Any]:
        """The connection, made again if the server closed it (restarted overnight, say), so that the next
        step after a lost connection works once the server answers. Never inside a transaction: the
        statement that found the connection lost failed, and the transaction with it."""
        if self.pg.closed:
            self.pg = self._open()
        return self.pg

    def execute(self, sql: str, params: Iterable[Any] = ()) -> psycopg.Cursor[Any]:
        return self._run(sql, params, dialect=True)

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """One statement for many rows, sent in pipeline (a round trip per batch, not per row)."""
        import psycopg

        try:
            with self.live().cursor() as cursor:
                cursor.executemany(_dialect(sql), [tuple(r) for r in rows])
        except psycopg.Error as exc:
            raise StoreError(f"the {self.where} could not do it: {_first_line(exc)}") from None

    def call(self, sql: str, params: Iterable[Any]) -> psycopg.Cursor[Any]:
        """A statement written for PostgreSQL (%s placeholders); a serialization failure is raised as
        it is (the caller reads again and retries), every other error as a StoreError."""
        return self._run(sql, params, dialect=False)

    def _run(self, sql: str, params: Iterable[Any], *, dialect: bool) -> psycopg.Cursor[Any]:
        import psycopg

        try:
            pg = self.live()
            if not dialect:
                return pg.execute(sql, tuple(params))
            if sql == "BEGIN IMMEDIATE":  # SQLite's write lock: here, the append lock, durable at commit
                return pg.execute(
                    f"BEGIN; SET LOCAL synchronous_commit TO on; SELECT pg_advisory_xact_lock({APPEND_LOCK})"
                )
            text = self._sql.get(sql)
            if text is None:
                text = self._sql[sql] = _dialect(sql)
            return pg.execute(text, tuple(params) if params else None)
        except psycopg.errors.SerializationFailure:
            if dialect:
                raise StoreError(f"the {self.where} was busy; nothing was saved", hint="Try again.") from None
            raise
        except psycopg.errors.InsufficientPrivilege:
            raise StoreError(
                f"you may not do that on the {self.where}: your login has no right to it",
                hint="Ask the team store's administrator (escalate team list shows who may record where).",
            ) from None
        except psycopg.errors.RaiseException as exc:  # a trigger refused it
            raise StoreError(f"the {self.where} refused it: {_first_line(exc)}") from None
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"lost the connection to the {self.where}: {_first_line(exc)}",
                hint="Nothing half-written is kept, but what was being saved may have been saved whole: look "
                "before saving it again. escalate connects again at the next step, once the server answers.",
            ) from None
        except psycopg.Error as exc:
            raise StoreError(f"the {self.where} could not do it: {_first_line(exc)}") from None

    def close(self) -> None:
        self.pg.close()


class PgStore(Store[S]):
    """The log in a PostgreSQL database (see the module's note)."""

    local = False
    _pg: _Connection
    #: where it is, as given (a worker connects to it again: see escalate.verify.check_team_span)
    url: str
    #: challenge -> (its last entry's number, its fold) as this connection last appended to it: the next
    #: append starts from it without reading the challenge again (were it moved on meanwhile, the server
    #: refuses the append, which is then made again from the challenge as read under the lock)
    _folded: dict[str, tuple[int, S]]
    #: folds this desk made and has not kept in the store yet (see _keep)
    _unkept: dict[str, tuple[int, S]]
    #: folds held back at most
    UNKEPT = 100
    #: (each fold's JSON parsed once, for both fields: 0.22 s for 10,000 challenges, against 0.33 s
    #: parsing it for each; a fold of another shape reads as none, and is worked out again)
    _WARNINGS = (
        "SELECT c.id, s.cseq = (SELECT max(e.cseq) FROM entries e WHERE e.challenge = c.id), "
        "CASE WHEN json_typeof(w.late) = 'array' THEN json_array_length(w.late) END, "
        "CASE WHEN w.backwards::text ~ '^[0-9]{1,9}$' THEN w.backwards::text::int END "
        "FROM challenges c LEFT JOIN state_cache s ON s.challenge = c.id "
        "LEFT JOIN LATERAL json_to_record(CASE WHEN s.state LIKE '{%' THEN s.state::json END) "
        "AS w (late json, backwards json) ON true ORDER BY c.opened_seq"
    )

    @classmethod
    def open_url(cls, url: str, *, fold: Fold[S], readonly: bool = False) -> PgStore[S]:
        where = shown_url(url)
        conn = _Connection(url, where, readonly)
        store = cls(conn, Path(where), fold)  # type: ignore[arg-type]  # (the adapter answers as sqlite3 does)
        store._pg = conn
        store.url = url
        store._folded = {}
        store._unkept = {}
        try:
            if conn.execute("SELECT to_regclass('meta')").fetchone() in (None, (None,)):
                raise StoreError(
                    f"the {where} holds no escalate store",
                    hint="An administrator makes one with `escalate team init URL`.",
                )
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or not str(row[0]).isdigit() or int(row[0]) > TEAM_SCHEMA_VERSION:
                raise StoreError(
                    f"the {where} was made by a newer escalate, or is not escalate's",
                    hint="Upgrade escalate to open it.",
                )
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        try:
            self._keep_unkept()
        finally:
            self.conn.close()

    def append_many(self, items: list[tuple[Any, ...]]) -> list[StoredEntry]:
        """Each entry in one call of the server's ``escalate_append``, which checks that its challenge's
        last entry is still the one the entry was made after. One entry is first made as this desk last
        saw its challenge, without the append lock (one round trip); if another desk recorded on it
        meanwhile, the server refuses it, and it is checked and made again holding the lock, against
        the challenge as it now is (so it cannot be refused again: no desk waits on a busy challenge
        for ever). Several entries are made in one transaction holding the lock (all saved, or none)."""
        import psycopg

        if len(items) == 1:
            try:
                stored, cache, digests = self._append_one(*items[0])
            except psycopg.errors.SerializationFailure:
                pass  # another desk recorded on it meanwhile
            else:
                self._appended([(stored, cache, digests)])
                return [stored]
        c = self.conn
        c.execute("BEGIN IMMEDIATE")  # (the append lock, held to the commit: what is read here stays so)
        try:
            done = [
                self._append_one(challenge, kind, occurred_at, author, data, check, read_again=True)
                for challenge, kind, occurred_at, author, data, check in items
            ]
            c.execute("COMMIT")
        except psycopg.errors.SerializationFailure:
            self._rollback()
            raise StoreError(f"the {self.path} was busy; nothing was saved", hint="Try again.") from None
        except BaseException:
            self._rollback()
            raise
        self._appended(done)
        return [stored for stored, _, _ in done]

    def _appended(self, done: list[tuple[StoredEntry, tuple[str, int, S], list[str]]]) -> None:
        """Once committed: the disclosures now in the store, and each challenge's new fold."""
        for _, (cid, cseq, state), digests in done:
            self._disclosed.update(digests)
            self._folded[cid] = (cseq, state)
            self._keep(cid, cseq, state)

    def _append_one(
        self,
        challenge: str | None,
        kind: str,
        occurred_at: str,
        author: dict[str, Any],
        data: dict[str, Any],
        check: Callable[[S | None], None] | None,
        read_again: bool = False,
    ) -> tuple[StoredEntry, tuple[str, int, S], list[str]]:
        """One entry made and appended: (it as stored, its challenge's new fold, the digests it disclosed).
        From this desk's last fold of the challenge unless ``read_again``; a serialization failure (the
        challenge moved on meanwhile) is raised as it is."""
        known = self._folded.pop(challenge, None) if challenge is not None else None
        state: S | None
        if known is not None and challenge is not None and kind != "opened" and not read_again:
            cid, (after, state) = challenge, known
        else:
            state, cid, after = self._read_for_append(challenge, kind)
        if check is not None:
            check(state)
        content, disclosures, typed = self._content(cid, kind, occurred_at, author, data)
        new = [(d, b) for d, b in dict(disclosures).items() if d not in self._disclosed]
        row = self._pg.call(
            "SELECT * FROM escalate_append(%s, %s, %s, %s, %s, %s, %s, %s)",
            (cid, after, kind, occurred_at, content["recorded_at"], entry.canonical(content),
             [d for d, _ in new], [b for _, b in new]),
        ).fetchone()  # fmt: skip
        if row is None:  # (the function returns its one row, or raises)
            raise StoreError(f"the {self.path} did not say what it saved", hint=DAMAGE_HINT)
        seq, digest, prev, cprev = row
        body = entry.build(seq, cid, after + 1, kind, prev, cprev, content)
        if entry.hash_of(seq, prev, body) != digest:
            raise StoreError(f"the {self.path} made entry {seq} with another hash than escalate's", hint=DAMAGE_HINT)
        stored = StoredEntry(seq, cid, after + 1, kind, occurred_at, content["recorded_at"], body, digest)
        try:
            try:
                new_state = self.fold.step(state, stored, typed)
            except WholeFold:
                new_state = self.fold.whole(self.entries(cid))
        except ValueError as exc:
            raise StoreError(f"saved, but its challenge does not fold: {exc}", hint=DAMAGE_HINT) from None
        return stored, (cid, after + 1, new_state), [d for d, _ in new]

    def _read_for_append(self, challenge: str | None, kind: str) -> tuple[S | None, str, int]:
        """(the challenge's state, its id, its last entry's number) as read now, before the append."""
        if challenge is None:
            if kind != "opened":
                raise ChallengeError("only an 'opened' entry starts a challenge")
            n = int(self.conn.execute("SELECT escalate_challenge_count()").fetchone()[0]) + 1
            return None, f"C-{n:04d}", 0
        if kind == "opened":
            raise ChallengeError("a challenge is opened only once")
        row = self.conn.execute(
            "SELECT (SELECT max(cseq) FROM entries WHERE challenge = ?), s.cseq, s.state "
            "FROM (SELECT 1) one LEFT JOIN state_cache s ON s.challenge = ?",
            (challenge, challenge),
        ).fetchone()
        last, cached_cseq, text = row if row is not None else (None, None, None)
        if last is None:
            raise ChallengeError(
                f"no challenge {challenge!r} in this store", hint="`escalate list` shows the challenges."
            )
        cached = self._cached(text) if cached_cseq == last else None
        return (cached if cached is not None else self._rebuild(challenge)), challenge, int(last)

    def _keep(self, challenge: str, cseq: int, state: S) -> None:
        """The challenge's fold as of its new entry, for the next reader: kept when this desk closes the
        store (or has many held back), not after every append, where it cost the append a round trip
        (4 writers' p99 6.2 ms against 4.0 ms without it). Until then a reader folds the challenge
        again (a list row or fold is read only when made at its last entry), and keeps what it made."""
        self._unkept[challenge] = (cseq, state)
        if len(self._unkept) >= self.UNKEPT:
            self._keep_unkept()

    def _state_in_tx(self, challenge: str, last_cseq: int) -> S:
        """As the file store's, first from the fold this desk made at the challenge's last entry."""
        mine = self._unkept.get(challenge) or self._folded.get(challenge)
        if mine is not None and mine[0] == last_cseq:
            return mine[1]
        return super()._state_in_tx(challenge, last_cseq)

    def _keep_unkept(self) -> None:
        """Keep the folds held back (best effort: each is worked out again if it could not be kept, or
        if another desk's later one is there)."""
        unkept, self._unkept = self._unkept, {}
        if not unkept:
            return
        try:
            self.conn.executemany(
                "SELECT escalate_keep_fold(?, ?, ?)",
                [(challenge, cseq, self.fold.dump(state)) for challenge, (cseq, state) in unkept.items()],
            )
        except StoreError:
            pass

    def _after_append(self) -> None:
        """(SQLite checkpoints its WAL here; the server keeps its own.)"""

    def _rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except StoreError:
            pass  # the connection is gone: the server rolled the transaction back itself

    def _disclosure_key(self) -> bytes:
        """As the file store's, but never replaced: the first append keeps one (people may insert, never
        update), and every later one reads it."""
        if self._key is None:
            self.conn.execute(
                "INSERT INTO meta VALUES ('disclosure_key', ?) ON CONFLICT DO NOTHING", (secrets.token_hex(32),)
            )
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'disclosure_key'").fetchone()
            self._key = bytes.fromhex(row[0])
        return self._key

    def entry_span(self, lo: int, hi: int, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """Entries lo..hi in order, in batches as :func:`entry_span` reads them."""
        return entry_span(self._pg.live(), self.path, lo, hi, size)

    def disclosure_span(self, lo: int, hi: int, size: int) -> Iterator[tuple[list[bytes], list[bytes]]]:
        """The disclosures entries lo..hi made, in batches as :func:`disclosure_span` reads them."""
        return disclosure_span(self._pg.live(), self.path, lo, hi, size)

    def disclosures_outside(self, lo: int, hi: int) -> tuple[list[bytes], list[bytes]]:
        """(digests as bytes, values) of the disclosures no entry lo..hi made."""
        rows = self._q("SELECT digest, bytes FROM disclosures WHERE seq < ? OR seq > ?", (lo, hi))
        return [str(d).encode() for d, _ in rows], [bytes(v) for _, v in rows]

    def location(self) -> str:
        return self.url

    def sees_everything(self) -> bool:
        total = self.conn.execute("SELECT escalate_challenge_count()").fetchone()[0]
        return bool(total == len(self.challenge_ids()))

    def chain_links(self) -> list[tuple[int, str, str]]:
        return [(int(s), str(i), str(h)) for s, i, h in self.conn.execute("SELECT * FROM escalate_links(0)")]

    def links(self, challenges: list[str], upto: int) -> list[tuple[int, str]] | None:
        """As the file store's, through the server's digests of the entries a person may not read (an
        entry whose hash is the digest of its bytes is E1, which no link line stands for)."""
        chosen = {int(r[0]) for r in self._q("SELECT seq FROM entries WHERE challenge = ANY(?)", (challenges,))}
        if not chosen:
            return []
        out: list[tuple[int, str]] = []
        for seq, inner, h in self.chain_links():
            if seq <= min(chosen) or seq > upto or seq in chosen:
                continue
            if inner == h:
                return None
            out.append((seq, inner))
        return out

    def person(self) -> dict[str, str] | None:
        """(Asked once per connection: a person's record never changes; their removal ends their right to
        record, which the server enforces on every entry.)"""
        if not hasattr(self, "_person"):
            row = self.conn.execute("SELECT name, role, setting FROM escalate_me() WHERE login IS NOT NULL").fetchone()
            self._person = None if row is None else {"name": row[0], "role": row[1], "setting": row[2]}
        return self._person

    def prepare_search(self) -> None:
        """The search table caught up with the log (the entries recorded since anyone last searched): a
        cache, so caught up even in a read-only session (which changes nothing of the log)."""
        self.conn.execute("BEGIN READ WRITE")
        try:
            self.conn.execute("SELECT escalate_index_new()")
            self.conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def login(self) -> str:
        """The login this session signed in as: a signer's name on a team store."""
        return str(self._q("SELECT session_user")[0][0])

    def person_keys(self) -> list[tuple[str, str, str]]:
        """Every person's signing keys: (login, public key, when added, as stored), oldest first."""
        if self._q("SELECT to_regclass('person_keys') IS NULL")[0][0]:
            return []
        return [
            (str(a), str(b), str(c))
            for a, b, c in self._q(
                "SELECT login, public_key, to_char(added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
                "FROM person_keys ORDER BY added_at, login"
            )
        ]

    def search(self, words: list[str], limit: int = 200) -> list[tuple[str, int, str]]:
        """PostgreSQL's full-text search over the table its triggers keep (see SEARCH): the challenges
        this person sees only."""
        if self._q("SELECT to_regclass('search_text') IS NULL")[0][0]:
            raise StoreError(
                f"the {self.path} was made before search",
                hint="Its administrator adds it with `escalate team upgrade URL` (the log is not changed).",
            )
        self.prepare_search()
        query = " & ".join(f"{w}:*" for w in words)  # (words are letters and digits only: see escalate.search)
        rows = self._pg.call(
            "SELECT s.challenge, s.seq, ts_headline('simple', s.words, q, "
            '\'MaxWords=14, MinWords=5, StartSel="", StopSel="", HighlightAll=false\') '
            "FROM search_text s, to_tsquery('simple', %s) q WHERE s.doc @@ q ORDER BY s.seq DESC LIMIT %s",
            (query, limit),
        ).fetchall()
        return [(str(c), int(s), str(h)) for c, s, h in rows]

    def damage(self) -> str | None:
        """The server keeps its own pages (and checks them with data checksums where enabled)."""
        return None

    def disclosure_rowids(self) -> int:
        return int(self._q("SELECT count(*) FROM disclosures")[0][0])

    # A team store keeps a challenge's fold and list row after the append's commit (escalate_keep_fold),
    # not inside it: a desk killed in between leaves a row of the challenge as it was. So a list row is
    # read only when made at the challenge's last entry (as a glance is), which one index answers.

    def listings(self, key: str) -> list[tuple[str, str | None]]:
        rows = self._q(
            "SELECT c.id, CASE WHEN s.listing_key = ? AND s.cseq = (SELECT max(e.cseq) FROM entries e "
            "WHERE e.challenge = c.id) THEN s.listing END FROM challenges c LEFT JOIN state_cache s "
            "ON s.challenge = c.id ORDER BY c.opened_seq",
            (key,),
        )
        return [(cid, text if isinstance(text, str) else None) for cid, text in rows]

    def listings_of(self, key: str, challenges: list[str]) -> dict[str, str]:
        rows = self._q(
            "SELECT s.challenge, s.listing FROM state_cache s WHERE s.listing_key = ? AND s.challenge = ANY(?) "
            "AND s.cseq = (SELECT max(e.cseq) FROM entries e WHERE e.challenge = s.challenge)",
            (key, challenges),
        )
        return {cid: text for cid, text in rows if isinstance(text, str)}

    def keep_listings(self, key: str, rows: list[tuple[str, int, S, str, str]]) -> bool:
        """As the SQLite store's: best effort, and only rows still current when written."""
        if not rows:
            return True
        c = self.conn
        try:
            c.execute("BEGIN")
            c.executemany(  # (in pipeline: a store copy keeps 10,000 at once)
                "SELECT escalate_keep_listing(?, ?, ?, ?, ?, ?)",
                [
                    (challenge, cseq, self.fold.dump(state), key, text, glance)
                    for challenge, cseq, state, text, glance in rows
                ],
            )
            c.execute("COMMIT")
        except StoreError:
            self._rollback()
            return False
        return True

    def whole_log_chunk_sql(self, redact: bool) -> str | None:
        return None  # (SQLite's JSON functions: the export writes the lines itself)


# --- reading spans of the log (verify, here and in its worker) --------------------------------------


def reading(url: str) -> psycopg.Connection[Any]:
    """A read-only connection of its own to the team store at ``url`` (a verify's worker's)."""
    conn = _connect(url)
    try:
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    except BaseException:
        conn.close()
        raise
    return conn


def _bytes_cursor(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A cursor reading in PostgreSQL's binary format, texts as the bytes they are stored as (not
    decoded: verify compares them with the bytes of entries' headers). Faster than converting them on
    the server: 0.87-1.0 s against 1.0-1.15 s to read 500,000 entries."""
    from psycopg.types.string import ByteaBinaryLoader

    cursor = conn.cursor(binary=True)
    cursor.adapters.register_loader("text", ByteaBinaryLoader)
    return cursor


def entry_span(
    conn: psycopg.Connection[Any], where: object, lo: int, hi: int, size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Entries lo..hi in order, in batches of (body, hash, challenge, cseq, kind), the texts as bytes:
    what verify's batch check reads (escalate.verify._Run), in PostgreSQL's binary format (bytes as they
    are, no hex). Reading on a thread while a batch is checked gains nothing (the GIL is held while
    psycopg makes rows); a second process reading another span does (see escalate.verify)."""
    import psycopg

    for start in range(lo, hi + 1, size):
        try:
            with _bytes_cursor(conn) as cursor:
                rows = cursor.execute(
                    "SELECT body, hash, challenge, cseq, kind FROM entries WHERE seq >= %s AND seq <= %s ORDER BY seq",
                    (start, min(start + size - 1, hi)),
                ).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"the {where} could not be read: {_first_line(exc)}") from None
        yield rows


def disclosure_span(
    conn: psycopg.Connection[Any], where: object, lo: int, hi: int, size: int
) -> Iterator[tuple[list[bytes], list[bytes]]]:
    """The disclosures that entries lo..hi made, in batches of (digests as bytes, values). Each batch
    comes as one row (the digests joined by commas, the values by newlines: a disclosure is compact
    JSON, which has none; were one there, the counts would differ and the check fail), so a million
    disclosures are not a million rows to make here."""
    import psycopg

    for start in range(lo, hi + 1, size):
        try:
            with _bytes_cursor(conn) as cursor:
                row = cursor.execute(
                    "SELECT string_agg(digest, ','), string_agg(bytes, '\\x0a'::bytea) "
                    "FROM disclosures WHERE seq >= %s AND seq <= %s",
                    (start, min(start + size - 1, hi)),
                ).fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"the {where} could not be read: {_first_line(exc)}") from None
        if row is not None and row[0] is not None:
            yield row[0].split(b","), row[1].split(b"\n")


# --- people ------------------------------------------------------------------------------------

ADMIN_HINT = "Run it as the team store's administrator (a login that may create roles)."


def _admin(url: str) -> psycopg.Connection[Any]:
    conn = _connect(url)
    if conn.execute("SELECT to_regclass('people')").fetchone() in (None, (None,)):
        conn.close()
        raise StoreError(f"the {shown_url(url)} holds no team store", hint="Make one with `escalate team init URL`.")
    return conn


def add_person(
    url: str, login: str, name: str, role: str, setting: str, group: str, sees: list[str], key: str | None = None
) -> None:
    """Give a login to a person (made if new), in one of the groups, with their record: run by an
    administrator. The person's password is theirs to set (``\\password`` in psql), or a trust's
    own authentication (``pg_hba.conf``) decides how they sign in."""
    import psycopg
    from psycopg import sql

    if group not in GROUPS:
        raise StoreError(f"no group {group!r}", hint="Groups: " + ", ".join(GROUPS))
    if group != "auditor" and sees:
        raise StoreError("--sees names the settings an auditor reads; a DSL sees their own, a lead every one")
    conn = _admin(url)
    try:
        with conn.transaction():
            if conn.execute("SELECT 1 FROM people WHERE login = %s", (login,)).fetchone() is not None:
                raise StoreError(f"{login} is already a person of this team store", hint="`escalate team list`")
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone() is not None
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(GROUPS[group]), sql.Identifier(login)))
            conn.execute(
                "INSERT INTO people (login, name, role, setting, grp, sees) VALUES (%s, %s, %s, %s, %s, %s)",
                (login, name, role, setting, group, sees),
            )
            if key is not None:
                conn.execute("INSERT INTO person_keys (login, public_key) VALUES (%s, %s)", (login, key))
    except psycopg.Error as exc:
        raise StoreError(f"cannot add {login}: {_first_line(exc)}", hint=ADMIN_HINT) from None
    finally:
        conn.close()


@contextmanager
def _for_person(url: str, login: str, doing: str) -> Iterator[psycopg.Connection[Any]]:
    """An administrator's transaction on a current person's record: refused for someone not (or no
    longer) on the store; a database error named as what was being done."""
    import psycopg

    conn = _admin(url)
    try:
        with conn.transaction():
            found = conn.execute("SELECT 1 FROM people WHERE login = %s AND removed_at IS NULL", (login,))
            if found.fetchone() is None:
                raise StoreError(f"{login} is not a person of this team store", hint="`escalate team list`")
            yield conn
    except psycopg.Error as exc:
        raise StoreError(f"cannot {doing}: {_first_line(exc)}", hint=ADMIN_HINT) from None
    finally:
        conn.close()


def add_key(url: str, login: str, key: str) -> None:
    """Give a person a new signing key (a lost or replaced one): their earlier keys stay, so what they
    signed with them still checks."""
    with _for_person(url, login, f"add the key of {login}") as conn:
        if conn.execute("SELECT to_regclass('person_keys')").fetchone() in (None, (None,)):
            raise StoreError("this team store was made before signing keys", hint="`escalate team upgrade URL`")
        conn.execute("INSERT INTO person_keys (login, public_key) VALUES (%s, %s) ON CONFLICT DO NOTHING", (login, key))


def set_password(url: str, login: str, password: str) -> None:
    """Set a person's password (for servers that sign people in by password; a trust's own sign-in,
    set in pg_hba.conf, may need none). The server keeps it hashed (SCRAM by default)."""
    from psycopg import sql

    with _for_person(url, login, f"set the password of {login}") as conn:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(login), sql.Literal(password)))


def remove_person(url: str, login: str) -> None:
    """Take a person's rights away (their login can no longer sign in or record); their past entries
    stay theirs, and their record says when they left."""
    import psycopg
    from psycopg import sql

    conn = _admin(url)
    try:
        with conn.transaction():
            row = conn.execute("SELECT grp FROM people WHERE login = %s AND removed_at IS NULL", (login,)).fetchone()
            if row is None:
                raise StoreError(f"{login} is not a current person of this team store", hint="`escalate team list`")
            # (their login may serve other databases of the server: it is this store they leave)
            conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(GROUPS[row[0]]), sql.Identifier(login)))
            conn.execute("UPDATE people SET removed_at = now() WHERE login = %s", (login,))
    except psycopg.Error as exc:
        raise StoreError(f"cannot remove {login}: {_first_line(exc)}", hint=ADMIN_HINT) from None
    finally:
        conn.close()


def people(url: str) -> list[tuple[str, str, str, str, str, list[str], str | None]]:
    """(login, name, role, setting, group, settings an auditor sees, when removed or None) of everyone."""
    conn = _admin(url)
    try:
        rows = conn.execute(
            "SELECT login, name, role, setting, grp, sees, to_char(removed_at, 'YYYY-MM-DD') FROM people ORDER BY login"
        ).fetchall()
    finally:
        conn.close()
    return [(r[0], r[1], r[2], r[3], r[4], list(r[5]), r[6]) for r in rows]
