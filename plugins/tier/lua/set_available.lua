-- Let an online agent take new customers ('1') or stop taking them ('0').
-- Its conversations stay. ARGV[3] agent, ARGV[4] flag.
-- Returns the drained conversations. An offline agent changes nothing.

local agent = ARGV[3]
local flag = ARGV[4]

if not is_online(agent) then
  return {}
end

redis.call('HSET', K.available, agent, flag)
refresh_agent(agent)
return finish()
