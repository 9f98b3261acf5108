-- Append one message to the history hash of a pair, at most once per dedupe field.
--
-- KEYS[1]  the pair hash
-- ARGV[1]  dedupe field (client id or system event), or "" to store unconditionally
-- ARGV[2]  the message JSON after the seq value: ',"type":...}'
-- ARGV[3]  time to live of the hash in seconds, renewed on every call
--
-- Returns {duplicate, message_json}. duplicate is 1 when the dedupe field
-- already named a stored message, which is then returned unchanged.
-- The JSON is spliced as a string instead of going through cjson, because
-- cjson (as built into Redis 7.0) reorders keys and rounds numbers to 14
-- significant digits, which cuts a ts such as 1733340000.123456 to 0.1 ms.

local key = KEYS[1]
local dedupe_field = ARGV[1]
local message_tail = ARGV[2]
local ttl = tonumber(ARGV[3])

if dedupe_field ~= '' then
  local stored_seq = redis.call('HGET', key, dedupe_field)
  if stored_seq then
    local stored = redis.call('HGET', key, 'm:' .. stored_seq)
    if stored then
      redis.call('EXPIRE', key, ttl)
      return {1, stored}
    end
  end
end

-- Field names match plugins/redis_history/keys.py (SEQ_FIELD, message_field).
local seq = string.format('%d', redis.call('HINCRBY', key, 'seq', 1))
local message = '{"seq":' .. seq .. message_tail
redis.call('HSET', key, 'm:' .. seq, message)
if dedupe_field ~= '' then
  redis.call('HSET', key, dedupe_field, seq)
end
redis.call('EXPIRE', key, ttl)
return {0, message}
