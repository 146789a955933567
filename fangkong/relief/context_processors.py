"""Whether the main menu shows 审计项目: to auditors, and to anyone on an audit team."""

from fangkong.relief import selectors


def nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"relief_nav": False}

    def show() -> bool:
        # Lazy: asked only when base.html renders the menu; auditors need no query.
        return selectors.can_create_projects(user) or selectors.projects_for(user).exists()

    return {"relief_nav": show}
