#!lua flags=no-writes
-- The queue settings with defaults. Returns {'OK', settings json}.
return {'OK', settings_json(settings())}
