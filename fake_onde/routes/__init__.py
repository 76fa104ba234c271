"""Thin HTTP handlers: validate, call one service function, return a public model."""
