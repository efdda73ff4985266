"""Record-rule authentication backend.

`user.has_perm(perm)` answers from the user's groups (roles), like ModelBackend.
`user.has_perm(perm, obj)` is true only with that model permission AND the object inside the
user's scope, as the model's record rule defines it (base.security).
"""

from django.contrib.auth.backends import ModelBackend

from .security import object_in_scope


class ScopedPermissionBackend(ModelBackend):
    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active:
            return False
        if perm not in self.get_all_permissions(user_obj):
            return False
        if obj is None:
            return True
        return object_in_scope(user_obj, obj)
