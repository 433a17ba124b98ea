"""Command localisation: zh-CN (and any other catalogue's) names, descriptions and choice names
for the synced command payload, through discord.py's ``app_commands.Translator``.

English stays exactly what the code registers (the product spec's names). For another locale:

* a description or choice name given as catalogue text (``s.VIDEO_DESC``, a
  :class:`~hh_bot.i18n.lazy.LazyText`) is that key's template in the locale; discord.py turns
  some into plain ``str`` on the way (``app_commands.describe`` shortens its descriptions), so
  plain text is found by its English wording too;
* a command, group or option name is looked up in ``s.COMMAND_NAMES`` (``command.<name>``);
* a choice name that is not catalogue text ("720P", "16:9") reads the same in every language
  and is given as it is, so each choice carries every locale.

Anything else (a name nobody listed) gets no localisation: Discord then shows the English.
"""

from __future__ import annotations

from discord import Locale, app_commands
from discord.app_commands import TranslationContextLocation as Where

from cogs.ui import strings as s
from hh_bot.i18n import DEFAULT_LOCALE, catalogue_locale, en, template
from hh_bot.i18n.lazy import LazyText

NAME_PLACES = frozenset({Where.command_name, Where.group_name, Where.parameter_name})


class CatalogueTranslator(app_commands.Translator):
    """Localisations from the message catalogues, for each registered catalogue locale."""

    def __init__(self) -> None:
        self._names: dict[str, LazyText] = {str.__str__(n): n for n in s.COMMAND_NAMES}
        self._texts: dict[str, str] = {
            english: key for key, english in en.MESSAGES.items() if not key.startswith("command.")
        }

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        target = catalogue_locale(locale.value)
        if target == DEFAULT_LOCALE:
            return None  # English is the base value (and zh-TW is not zh-CN: English too)
        return self.localise(string.message, target, context.location)

    def localise(self, message: str, target: str, where: Where) -> str | None:
        """``message`` (a name, description or choice name) in the catalogue locale
        ``target``."""
        english = str.__str__(message)
        if where in NAME_PLACES:
            named = self._names.get(english)
            if named is None and isinstance(message, LazyText):
                named = message  # a context menu's name is catalogue text ("Make video")
            return None if named is None else named.in_locale(target)
        if isinstance(message, LazyText):
            return message.in_locale(target)
        key = self._texts.get(english)
        if key is not None:
            return template(key, target)
        if where is Where.choice_name:
            return english  # "720P", "16:9": the same in every language
        return None
