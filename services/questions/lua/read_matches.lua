#!lua flags=no-writes
-- Duplicate candidates for SuggestDuplicates (no writes).
-- ARGV: with_pending (0/1: moderators also see PENDING candidates),
-- question id ('' for none: the caller gave a text), viewer.
-- Returns {'OK', question json or '', id, match, text, ...}; NOT_FOUND when
-- the named question is missing.
local with_pending, id, viewer = ARGV[1] == '1', ARGV[2], ARGV[3]
local out = {'OK', id ~= '' and question_json(must_load(id), viewer) or ''}
return duplicate_candidates(out, with_pending)
