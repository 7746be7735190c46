DROP INDEX event_agent_reply_idx;
