-- Count one more connection of a uid on a worker and end its offline period.
-- KEYS: online hash, worker counts hash, worker roles hash, offline zset of the role
-- ARGV: uid, role
-- Returns the uid's total connection count over all workers.
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1])
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
