-- Assign queued customers while an agent is eligible. Every change already
-- drains, so this only serves as the periodic safety net. Returns the drained conversations.

return finish()
