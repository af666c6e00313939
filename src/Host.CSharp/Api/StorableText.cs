using Microsoft.AspNetCore.Http.HttpResults;

namespace CohortSync.Host.Api;

/// <summary>
/// Text a caller sends (ids in the query string, cursors) with a NUL in it is refused with 400 before a
/// handler runs: PostgreSQL text cannot hold NUL, so no id has one, and a query given one fails. Kestrel
/// already refuses a path with NUL; this covers the query string.
/// </summary>
static class StorableText
{
    public static RouteGroupBuilder RefuseTextWithNul(this RouteGroupBuilder group)
    {
        group.AddEndpointFilterFactory((factory, next) =>
        {
            var names = factory.MethodInfo.GetParameters()
                .Select(p => p.ParameterType == typeof(string) ? p.Name : null)
                .ToArray();
            return context =>
            {
                for (var i = 0; i < names.Length && i < context.Arguments.Count; i++)
                    if (names[i] is { } name && context.Arguments[i] is string text && !Cursor.IsStorable(text))
                        return ValueTask.FromResult<object?>(
                            TypedResults.BadRequest(new ProblemBody($"{name} must not contain the NUL character (U+0000)")));
                return next(context);
            };
        });
        return group;
    }
}
