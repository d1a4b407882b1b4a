"""Progress service: xAPI statements (evidence) and the mastery estimates derived from them."""
