using System.Text;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class Utf8OrderTests
{
    [Fact]
    public void A_surrogate_pair_sorts_after_u_fffd_by_utf8_bytes_though_ordinal_puts_it_before()
    {
        const string emoji = "\U0001F600";
        const string replacement = "\uFFFD";
        Assert.True(string.CompareOrdinal(emoji, replacement) < 0);
        Assert.True(Utf8Order.Instance.Compare(emoji, replacement) > 0);
        Assert.True(Utf8Order.Instance.Compare(replacement, emoji) < 0);
    }

    [Fact]
    public void Sorting_names_gives_code_point_order()
    {
        var names = new List<string> { "张三", "\U0001F600", "bob", "Alice", "\uFFFD", "José", "Jose", "" };
        names.Sort(Utf8Order.Instance);
        Assert.Equal(["", "Alice", "Jose", "José", "bob", "张三", "\uFFFD", "\U0001F600"], names);
    }

    [Fact]
    public void A_prefix_sorts_first_and_equal_strings_compare_equal()
    {
        Assert.True(Utf8Order.Instance.Compare("ab", "abc") < 0);
        Assert.Equal(0, Utf8Order.Instance.Compare("abc", new string("abc".AsSpan())));
    }

    [Fact]
    public void Null_sorts_before_everything()
    {
        Assert.True(Utf8Order.Instance.Compare(null, "") < 0);
        Assert.True(Utf8Order.Instance.Compare("", null) > 0);
        Assert.Equal(0, Utf8Order.Instance.Compare(null, null));
    }

    [Fact]
    public void Order_matches_comparing_utf8_bytes_for_characters_around_the_surrogate_range()
    {
        string[] samples = ["\uD7FF", "\uE000", "\uFFFF", "\U00010000", "\U0010FFFF", "\uFB01", "a", "\u0080"];
        foreach (string x in samples)
        {
            foreach (string y in samples)
            {
                int expected = Math.Sign(Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y)));
                Assert.Equal(expected, Math.Sign(Utf8Order.Instance.Compare(x, y)));
            }
        }
    }
}
