"""Run the ``imflask_transform_transcript`` implementations as a chain.

pluggy calls every implementation with the same arguments and collects the
results, so it has no chain call. This module walks the implementations in
pluggy's own call order (last registered first, ``tryfirst`` before and
``trylast`` after the rest) and passes each the transcript returned by the
one before.
"""


def transform_transcript(hook, transcript):
    """Return ``transcript`` after every implementation of the hook has seen it.

    An implementation that returns None leaves the transcript as it was.
    Raises TypeError for a wrapper implementation, which cannot take part in
    a chain.
    """
    caller = hook.imflask_transform_transcript
    for implementation in reversed(caller.get_hookimpls()):
        if implementation.hookwrapper or implementation.wrapper:
            raise TypeError(
                f"plugin {implementation.plugin_name!r} implements imflask_transform_transcript "
                "as a wrapper; a transform must be a plain implementation"
            )
        arguments = {"transcript": transcript}
        result = implementation.function(**{name: arguments[name] for name in implementation.argnames})
        if result is not None:
            transcript = result
    return transcript
