-- Remove a dead worker's connections as if each had closed.
-- KEYS: online hash, worker hash, workers zset, offline zset (agents),
--       offline zset (customers), worker roles hash
-- ARGV: worker id, now
-- Returns the number of uids that went offline. Running it twice changes
-- nothing, because the first run deletes the worker's hashes.
if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then
  return 0
end
local counts = redis.call('HGETALL', KEYS[2])
local went_offline = 0
for i = 1, #counts, 2 do
  local uid = counts[i]
  local total = redis.call('HINCRBY', KEYS[1], uid, -tonumber(counts[i + 1]))
  if total <= 0 then
    redis.call('HDEL', KEYS[1], uid)
    local role = redis.call('HGET', KEYS[6], uid)
    local offline = KEYS[5]
    if role == 'agent' then offline = KEYS[4] end
    redis.call('ZADD', offline, ARGV[2], uid)
    went_offline = went_offline + 1
  end
end
redis.call('DEL', KEYS[2], KEYS[6])
return went_offline
