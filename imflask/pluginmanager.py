"""Build the plugin manager and resolve the named strategies.

Plugins load in a fixed order: the default set in :data:`DEFAULT_PLUGINS`,
then installed distributions' entry points in group ``imflask``, then the
modules named in ``IMFLASK_PLUGINS``. Names in ``IMFLASK_DISABLE_PLUGINS``
are blocked before anything loads.
"""

import importlib
import logging

import pluggy

from imflask import PROJECT_NAME, hookspecs
from imflask.config import split_names
from imflask.errors import ConfigError, UnknownNameError

logger = logging.getLogger(__name__)

DEFAULT_PLUGINS = (
    "plugins.jwt_auth",
    "plugins.tier",
    "plugins.redis_history",
    "plugins.export_formats",
    "plugins.redaction",
)


def build_plugin_manager(config):
    """Return a plugin manager with every plugin loaded and checked.

    Raises :class:`ConfigError` when a module named in ``IMFLASK_PLUGINS``
    cannot be imported, and :class:`pluggy.PluginValidationError` when a
    plugin implements a hook that does not exist.
    """
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)

    for name in split_names(config.get("DISABLE_PLUGINS")):
        manager.set_blocked(name)
        logger.info("plugin %s is disabled by configuration", name)

    for module_path in DEFAULT_PLUGINS:
        _register_module(manager, module_path)

    manager.load_setuptools_entrypoints(PROJECT_NAME)

    for module_path in split_names(config.get("PLUGINS")):
        _register_module(manager, module_path)

    manager.check_pending()
    logger.info("loaded plugins: %s", ", ".join(plugin_names(manager)))
    return manager


def plugin_names(manager):
    """Return the names of the registered plugins in load order."""
    return [name for name, plugin in manager.list_name_plugin() if plugin is not None]


def collect_registry(hook_caller, kind):
    """Merge the dicts a registry hook returned into one dict.

    Raises :class:`ConfigError` when two plugins register the same name.
    """
    registry = {}
    for result in hook_caller():
        for name, factory in (result or {}).items():
            if name in registry:
                raise ConfigError(f"{kind} {name!r} is registered by two plugins")
            registry[name] = factory
    return registry


def resolve(registry, kind, name):
    """Return the factory registered under ``name``.

    Raises :class:`UnknownNameError` listing the known names.
    """
    try:
        return registry[name]
    except KeyError:
        raise UnknownNameError(kind, name, registry) from None


def _register_module(manager, module_path):
    if manager.is_blocked(module_path):
        return

    try:
        module = importlib.import_module(module_path)
    except ImportError as error:
        raise ConfigError(f"cannot import plugin module {module_path!r}: {error}") from error

    if manager.is_registered(module):
        return
    manager.register(module, name=module_path)
