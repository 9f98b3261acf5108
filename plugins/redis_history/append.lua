-- Append one message to the history hash of a pair, at most once per
-- system event and once per client id among the sender's recent ones.
--
-- KEYS[1]  the pair hash
-- ARGV[1]  time to live of the hash in seconds, renewed on every call
-- ARGV[2]  the stored form of the message (see stored_form.py), without its seq
-- ARGV[3]  system event field e:<event>:<conversation id>, or ""
-- ARGV[4]  client_msg_id, or "" for a message without one
-- ARGV[5]  the sender's client id counter field r:<side> (with ARGV[4])
-- ARGV[6]  the sender's bucket field r:<side>:<bucket> for this client id (with ARGV[4])
-- ARGV[7]  the sender's field c:<side>:<client_msg_id> of earlier versions (with ARGV[4])
-- ARGV[8]  the window: how many of the sender's latest client ids deduplicate (with ARGV[4])
--
-- Returns {duplicate, seq, stored form}. duplicate is 1 when the event or
-- client id already named a stored message, which is then returned unchanged.
--
-- The counter numbers the client ids that the sender has stored: 1, 2 and so
-- on. The caller spreads the ids over bucket fields by a hash of the id, so
-- each call reads and rewrites one short string instead of the whole window.
-- A bucket is a string of entries "\030<client id>\031<seq>\031<number>" in
-- the order stored. Client ids contain neither separator, so a plain search
-- for "\030<client id>\031" can match only a whole id. An entry deduplicates
-- while its number is among the last <window>, and a write to a bucket drops
-- its entries that are older.
--
-- The stored form is built as a string instead of going through cjson,
-- because cjson (as built into Redis 7.0) reorders keys and rounds numbers
-- to 14 significant digits, which cuts a ts such as 1733340000.123456 to 0.1 ms.

local ENTRY_START = '\030'
local ID_END = '\031'
local ENTRY_NUMBER = '^\030[^\031]*\031%d+\031(%d+)'

local key = KEYS[1]
local ttl = tonumber(ARGV[1])
local stored_form = ARGV[2]
local event_field = ARGV[3]
local client_id = ARGV[4]
local counter_field = ARGV[5]
local bucket_field = ARGV[6]
local legacy_field = ARGV[7]
local window = tonumber(ARGV[8])

-- Field names match plugins/redis_history/keys.py (SEQ_FIELD, message_field).
local function duplicate_of(seq)
  local stored = seq and redis.call('HGET', key, 'm:' .. seq)
  if not stored then
    return nil
  end
  redis.call('EXPIRE', key, ttl)
  return {1, tonumber(seq), stored}
end

-- One HMGET reads every field the call needs, and one HSET writes them,
-- because each redis.call has a fixed cost on top of the command's own work.
local read_fields = {'seq'}
if client_id ~= '' then
  read_fields = {'seq', counter_field, bucket_field, legacy_field}
elseif event_field ~= '' then
  read_fields = {'seq', event_field}
end
local values = redis.call('HMGET', key, unpack(read_fields))

local bucket = ''
local count = 0
if client_id ~= '' then
  count = tonumber(values[2] or '0')
  bucket = values[3] or ''

  local needle = ENTRY_START .. client_id .. ID_END
  local found = string.find(bucket, needle, 1, true)
  if found then
    local seq, number = string.match(bucket, '^(%d+)\031(%d+)', found + #needle)
    local reply = number and tonumber(number) > count - window and duplicate_of(seq)
    if reply then
      return reply
    end
  end

  local reply = duplicate_of(values[4])
  if reply then
    return reply
  end
elseif event_field ~= '' then
  local reply = duplicate_of(values[2])
  if reply then
    return reply
  end
end

local seq = string.format('%d', tonumber(values[1] or '0') + 1)
local writes = {'seq', seq, 'm:' .. seq, stored_form}

if client_id ~= '' then
  local number = count + 1
  local start = 1
  while true do
    local oldest = tonumber(string.match(bucket, ENTRY_NUMBER, start))
    if not oldest or oldest > number - window then
      break
    end
    start = string.find(bucket, ENTRY_START, start + 1, true) or #bucket + 1
  end
  local entry = ENTRY_START .. client_id .. ID_END .. seq .. ID_END .. number
  table.insert(writes, counter_field)
  table.insert(writes, number)
  table.insert(writes, bucket_field)
  table.insert(writes, string.sub(bucket, start) .. entry)
elseif event_field ~= '' then
  table.insert(writes, event_field)
  table.insert(writes, seq)
end

redis.call('HSET', key, unpack(writes))
redis.call('EXPIRE', key, ttl)
return {0, tonumber(seq), stored_form}
