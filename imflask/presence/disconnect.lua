-- Count one connection less; the uid's last connection starts its offline period.
-- KEYS: online hash, worker counts hash, worker roles hash, offline zset of the role
-- ARGV: uid, now
-- Returns the uid's remaining connection count over all workers.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  return tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
end
if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if total <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
  return 0
end
return total
