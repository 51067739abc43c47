"""The resource namespaces (``client.projects``, ``client.events``, …), written once for both
clients.

Each namespace attribute is an :class:`op` or a :class:`list_op` wrapping a builder of
``_calls.py``. Read from a namespace of a ``Client`` it is a method that sends the call and
returns the result; read from one of an ``AsyncClient`` it returns an awaitable (or, for
lists, an async iterator). The type checker sees the builder's exact signature either way.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from resentry_client import _calls
from resentry_client._calls import Call, ListCall
from resentry_client._flow import Session
from resentry_client._models import Page

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class SyncRunner(Protocol):
    """Sends calls and walks lists, blocking (``Client``)."""

    def run(self, call: Call[T]) -> T:
        """Send ``call`` and return its result."""
        ...

    def pages(self, list_call: ListCall[T]) -> Iterator[Page[T]]:
        """Fetch the pages of ``list_call`` one by one, as they are needed."""
        ...


class AsyncRunner(Protocol):
    """Sends calls and walks lists, awaiting (``AsyncClient``)."""

    async def run(self, call: Call[T]) -> T:
        """Send ``call`` and return its result."""
        ...

    def pages(self, list_call: ListCall[T]) -> AsyncIterator[Page[T]]:
        """Fetch the pages of ``list_call`` one by one, as they are needed."""
        ...


R = TypeVar("R", bound=SyncRunner | AsyncRunner)


class Resource(Generic[R]):
    """A group of operations sent through one client's runner."""

    def __init__(self, runner: R) -> None:
        self._runner = runner


class SyncPager(Generic[T_co]):
    """A lazy list: iterating it fetches page after page (``limit`` items each) until the end
    or ``max_items``. Iterate again to fetch it again."""

    def __init__(self, runner: SyncRunner, list_call: ListCall[Any]) -> None:
        self._runner = runner
        self._list = list_call

    def __iter__(self) -> Iterator[T_co]:
        for page in self.pages():
            yield from page.items

    def pages(self) -> Iterator[Page[T_co]]:
        """The pages, one request each (the last may be cut short by ``max_items``)."""
        return self._runner.pages(self._list)


class AsyncPager(Generic[T_co]):
    """The async :class:`SyncPager`: ``async for`` fetches page after page."""

    def __init__(self, runner: AsyncRunner, list_call: ListCall[Any]) -> None:
        self._runner = runner
        self._list = list_call

    async def __aiter__(self) -> AsyncIterator[T_co]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def pages(self) -> AsyncIterator[Page[T_co]]:
        """The pages, one request each (the last may be cut short by ``max_items``)."""
        return self._runner.pages(self._list)


class _Method(Generic[P, T]):
    # What an op is once read from a namespace: the builder bound to a runner.
    def __init__(self, build: Callable[P, Any], runner: Any) -> None:
        self._build = build
        self._runner = runner
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__


class SyncMethod(_Method[P, T]):
    """An operation of a ``Client``: calling it sends the request and returns the result."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._runner.run(self._build(*args, **kwargs))  # type: ignore[no-any-return]


class AsyncMethod(_Method[P, T]):
    """An operation of an ``AsyncClient``: calling it returns an awaitable of the result."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[T]:
        return self._runner.run(self._build(*args, **kwargs))  # type: ignore[no-any-return]


class SyncListMethod(_Method[P, T]):
    """A list operation of a ``Client``: calling it returns a lazy :class:`SyncPager`."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> SyncPager[T]:
        return SyncPager(self._runner, self._build(*args, **kwargs))


class AsyncListMethod(_Method[P, T]):
    """A list operation of an ``AsyncClient``: calling it returns a lazy :class:`AsyncPager`."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> AsyncPager[T]:
        return AsyncPager(self._runner, self._build(*args, **kwargs))


class _Operation(Generic[P, T]):
    # A namespace attribute: binds its builder to the runner of the namespace it is read from.
    def __init__(self, build: Callable[P, Any]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    def _bind(
        self, resource: Resource[Any], sync: type[_Method[P, T]], async_: type[_Method[P, T]]
    ) -> _Method[P, T]:
        method = async_ if getattr(resource._runner, "is_async", False) else sync
        return method(self._build, resource._runner)


class op(_Operation[P, T]):  # noqa: N801 - a descriptor, named like a decorator
    """An operation of a namespace, from a builder that returns a ``Call[T]``."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        super().__init__(build)

    @overload
    def __get__(self, resource: None, owner: type) -> Self: ...
    @overload
    def __get__(self, resource: Resource[SyncRunner], owner: type) -> SyncMethod[P, T]: ...
    @overload
    def __get__(self, resource: Resource[AsyncRunner], owner: type) -> AsyncMethod[P, T]: ...
    def __get__(self, resource: Resource[Any] | None, owner: type) -> object:
        return self if resource is None else self._bind(resource, SyncMethod, AsyncMethod)


class list_op(_Operation[P, T]):  # noqa: N801 - a descriptor, named like a decorator
    """A list operation of a namespace, from a builder that returns a ``ListCall[T]``."""

    def __init__(self, build: Callable[P, ListCall[T]]) -> None:
        super().__init__(build)

    @overload
    def __get__(self, resource: None, owner: type) -> Self: ...
    @overload
    def __get__(self, resource: Resource[SyncRunner], owner: type) -> SyncListMethod[P, T]: ...
    @overload
    def __get__(self, resource: Resource[AsyncRunner], owner: type) -> AsyncListMethod[P, T]: ...
    def __get__(self, resource: Resource[Any] | None, owner: type) -> object:
        return self if resource is None else self._bind(resource, SyncListMethod, AsyncListMethod)


class Users(Resource[R]):
    """``/api/v1/users``: user management (admins; users may read and update themselves)."""

    list = list_op(_calls.list_users)
    get = op(_calls.get_user)
    create = op(_calls.create_user)
    update = op(_calls.update_user)
    delete = op(_calls.delete_user)


class Projects(Resource[R]):
    """``/api/v1/projects``: projects with their keys and DSNs."""

    list = list_op(_calls.list_projects)
    get = op(_calls.get_project)
    create = op(_calls.create_project)
    update = op(_calls.update_project)
    delete = op(_calls.delete_project)


class Keys(Resource[R]):
    """A project's keys (DSNs): list, create, revoke."""

    list = list_op(_calls.list_keys)
    create = op(_calls.create_key)
    revoke = op(_calls.revoke_key)


class Members(Resource[R]):
    """A project's members: list, add (or update), update their notification settings,
    remove."""

    list = list_op(_calls.list_members)
    add = op(_calls.add_member)
    update = op(_calls.update_member)
    remove = op(_calls.remove_member)


class Channels(Resource[R]):
    """A project's notification channels (admins only); ``create`` answers a webhook's secret,
    once; ``test`` queues a test message."""

    list = list_op(_calls.list_channels)
    get = op(_calls.get_channel)
    create = op(_calls.create_channel)
    update = op(_calls.update_channel)
    delete = op(_calls.delete_channel)
    test = op(_calls.queue_test_message)


class Rules(Resource[R]):
    """A project's notification rules (admins only): which channel hears of what."""

    list = list_op(_calls.list_rules)
    create = op(_calls.create_rule)
    update = op(_calls.update_rule)
    delete = op(_calls.delete_rule)


class Deliveries(Resource[R]):
    """A project's delivery log (admins only)."""

    list = list_op(_calls.list_deliveries)


class Events(Resource[R]):
    """Events of a project (or of every visible project) and their detail."""

    list = list_op(_calls.list_events)
    list_all = list_op(_calls.list_all_events)
    get = op(_calls.get_event)


class Attachments(Resource[R]):
    """Attachment downloads."""

    download = op(_calls.download_attachment)


class Envelopes(Resource[R]):
    """Raw envelope downloads."""

    download = op(_calls.download_envelope)


class Issues(Resource[R]):
    """A project's issues: list, detail, status changes, their events."""

    list = list_op(_calls.list_issues)
    get = op(_calls.get_issue)
    set_status = op(_calls.set_issue_status)
    resolve = op(_calls.resolve_issue)
    ignore = op(_calls.ignore_issue)
    reopen = op(_calls.reopen_issue)
    events = list_op(_calls.list_issue_events)


class Sessions(Resource[R]):
    """Release health from SDK sessions."""

    list = list_op(_calls.list_release_health)


class Monitors(Resource[R]):
    """Cron monitors and their check-ins."""

    list = list_op(_calls.list_monitors)
    check_ins = list_op(_calls.list_check_ins)


class Logs(Resource[R]):
    """Log records."""

    list = list_op(_calls.list_logs)


class FeedbackResource(Resource[R]):
    """User feedback."""

    list = list_op(_calls.list_feedback)


class ClientReports(Resource[R]):
    """What SDKs reported discarding (client reports)."""

    list = list_op(_calls.list_client_reports)


class Items(Resource[R]):
    """Every stored envelope item, and their payload downloads."""

    list = list_op(_calls.list_items)
    download = op(_calls.download_item)


class Api(Resource[R]):
    """Everything both clients offer: the service and auth calls and every namespace."""

    health = op(_calls.health)
    login = op(_calls.login)
    refresh = op(_calls.refresh)
    logout = op(_calls.logout)
    me = op(_calls.me)

    def __init__(self, runner: R, session: Session) -> None:
        super().__init__(runner)
        self._session = session
        self.users = Users(runner)
        self.projects = Projects(runner)
        self.keys = Keys(runner)
        self.members = Members(runner)
        self.channels = Channels(runner)
        self.rules = Rules(runner)
        self.deliveries = Deliveries(runner)
        self.events = Events(runner)
        self.attachments = Attachments(runner)
        self.envelopes = Envelopes(runner)
        self.issues = Issues(runner)
        self.sessions = Sessions(runner)
        self.monitors = Monitors(runner)
        self.logs = Logs(runner)
        self.feedback = FeedbackResource(runner)
        self.client_reports = ClientReports(runner)
        self.items = Items(runner)

    @property
    def base_url(self) -> str:
        """The server's base URL."""
        return self._session.base_url

    @property
    def access_token(self) -> str | None:
        """The current access token (after ``login()`` or a refresh)."""
        return self._session.access_token

    @property
    def refresh_token(self) -> str | None:
        """The current refresh token."""
        return self._session.refresh_token

    def forget_tokens(self) -> None:
        """Forget the tokens locally (and the stored login they came from, if any)."""
        self._session.forget()
