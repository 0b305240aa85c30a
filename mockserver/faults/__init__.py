"""Fault rules: the rules as data and their matching (model), what a fired rule does, the stage, /__mock/faults."""
