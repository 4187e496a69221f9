"""What the world should look like and what success means: the task format, the
event model, the event-stream generator and (later) compilation into seed plans."""
