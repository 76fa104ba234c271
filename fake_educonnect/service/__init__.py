"""EduConnect's domain logic: plain functions, the session passed in, no HTTP types, no commits."""
