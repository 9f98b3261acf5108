-- Assign the customer an agent or queue it. Asking again returns the same.
-- ARGV[3] customer, ARGV[4] the CRC32 of the customer uid as a decimal
-- string, ARGV[5] '0' to return 'no_agents' instead of queueing when no
-- agent is online (absent to queue, so the default sends one argument less).
-- Returns {status, conversation JSON or nil, position or nil, created 0/1},
-- except that a new assignment to the lowest tier returns {'assigned', nil,
-- nil, 1, conversation id, agent}: the caller knows the rest of the JSON.

local customer = ARGV[3]
local hash = tonumber(ARGV[4])
local queue_when_no_agents = ARGV[5] ~= '0'

local existing = redis.call('HGET', K.conversations, customer)
if existing then
  return {'assigned', existing, false, 0}
end

-- No customer waits while an agent is eligible, so with an eligible agent
-- the queue is empty: the customer is not in it and overtakes no one.
local tier = lowest_tier()
if tier then
  local conversation, lowest_after, id, agent = assign_in_tier(customer, hash, tier)
  -- Every script that changes state ends with K.pointer at the lowest tier,
  -- so it needs a write only when the lowest tier moved.
  if lowest_after ~= tier then
    write_pointer(lowest_after)
  end
  return {'assigned', false, false, 1, id, agent}
end

local rank = redis.call('ZRANK', K.queue, customer)
if rank then
  return {'queued', false, rank + 1, 0}
end

if not queue_when_no_agents and redis.call('EXISTS', K.tiers) == 0 then
  return {'no_agents', false, false, 0}
end

enqueue_at_tail(customer)
finish()

-- The drain assigns nobody while the queue invariant is kept. If it did
-- reach this customer, report the assignment.
rank = redis.call('ZRANK', K.queue, customer)
if rank then
  return {'queued', false, rank + 1, 0}
end
return {'assigned', redis.call('HGET', K.conversations, customer), false, 1}
