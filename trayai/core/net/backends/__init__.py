"""What a model server can say and do beyond ``/v1/models``: which backend it is, which models are
loaded, and load / unload / pull where it allows (docs/model-management.md; the sourced reference of
every backend's API is in docs/model-apis.md).

Qt-free. ``manager.ModelManager`` is the entry point; one adapter module per backend.
"""
