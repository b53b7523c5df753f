"""Shipped scenarios (the ``*.toml`` files in this folder) and the scenario library.

The library code lives in :mod:`simulator.library` (the engine layer, no Qt);
it is re-exported here so ``import scenarios`` reads naturally in the app.
"""

from simulator.library import (  # noqa: F401
    DEFAULT_SCENARIO,
    SHIPPED_DIR,
    TEMPLATES,
    Entry,
    delete_user,
    is_shipped,
    list_all,
    list_shipped,
    list_user,
    load_default,
    new_from_template,
    rename_user,
    resolve,
    save_user,
    shipped_path,
    slug,
    unique_user_path,
    user_dir,
    user_dir_warning,
)
