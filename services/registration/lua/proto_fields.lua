-- Reads string fields of a serialized protobuf message, prepended to the
-- registration scripts after registrations.lua, so that a script can use a
-- record the directory stores as proto bytes (a participant) without a
-- separate round trip to read it first.

-- Returns field number -> value for the top-level string (length-delimited)
-- fields numbered in `wanted` (field number -> true): '' for an absent
-- field, the last value for a repeated one, as protobuf parsers do. Returns
-- nil when `bytes` is not a well-formed message.
local function pb_string_fields(bytes, wanted)
  local out = {}
  for number in pairs(wanted) do out[number] = '' end
  local pos, len = 1, #bytes
  -- Reads a varint at pos. Values above 2^53 lose precision, which does not
  -- matter: varints are only tags, lengths or skipped.
  local function varint()
    local value, scale = 0, 1
    while pos <= len do
      local b = string.byte(bytes, pos)
      pos = pos + 1
      value = value + (b % 128) * scale
      if b < 128 then return value end
      scale = scale * 128
    end
    return nil
  end
  while pos <= len do
    local tag = varint()
    if not tag then return nil end
    local number, wire = math.floor(tag / 8), tag % 8
    if wire == 0 then
      if not varint() then return nil end
    elseif wire == 1 then
      pos = pos + 8
    elseif wire == 5 then
      pos = pos + 4
    elseif wire == 2 then
      local n = varint()
      if not n or pos + n - 1 > len then return nil end
      if wanted[number] then out[number] = string.sub(bytes, pos, pos + n - 1) end
      pos = pos + n
    else
      return nil
    end
    if pos > len + 1 then return nil end
  end
  return out
end
