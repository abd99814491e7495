from .roles import Role, roles_of


def roles(request):
    user_roles = roles_of(request.user) if hasattr(request, "user") else set()
    return {
        "user_roles": {role.value for role in user_roles},
        "is_reviewer": bool(user_roles & {Role.REVIEWER, Role.ADMIN}),
        "is_publisher": bool(user_roles & {Role.PUBLISHER, Role.ADMIN}),
        "is_auditor": bool(user_roles & {Role.AUDITOR, Role.ADMIN}),
        "is_admin": Role.ADMIN in user_roles,
    }
