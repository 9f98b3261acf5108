-- Assign the customer an agent or queue it. Asking again returns the same.
-- ARGV[3] customer, ARGV[4] '1' to queue when no agent is online, else '0'.
-- Returns {status, conversation JSON or nil, position or nil, created 0/1}.

local customer = ARGV[3]
local queue_when_no_agents = ARGV[4] == '1'

local existing = redis.call('HGET', K.conversations, customer)
if existing then
  return {'assigned', existing, false, 0}
end

local rank = redis.call('ZRANK', K.queue, customer)
if rank then
  return {'queued', false, rank + 1, 0}
end

-- A customer never overtakes the queue. Nobody waits while an agent is
-- eligible, so a non-empty queue means no agent is free anyway.
if redis.call('EXISTS', K.queue) == 0 then
  local agent = choose_agent(customer)
  if agent then
    local conversation = assign(customer, agent)
    write_pointer()
    return {'assigned', conversation, false, 1}
  end
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
